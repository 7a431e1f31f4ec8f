/**
 * One TCP connection a script opened, held in the server thread. The script reads it with
 * blocking requests (see socket-ops.ts), so received bytes wait here until asked for; past
 * READ_BUFFER_HIGH the socket is paused, so a script that stops reading bounds its memory.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

const READ_BUFFER_HIGH = 1024 * 1024;

/**
 * A read's end: bytes (`endsStream` when nothing follows them but the peer's end of stream, so
 * the script's next read needs no request), the end of stream, a failure, or the script's timeout.
 */
export type ReadResult = { data: Buffer; endsStream: boolean } | { eof: true } | { failure: NodeJS.ErrnoException } | { timedOut: true };

export class HostConnection {
  private stream: Socket | TLSSocket;
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private failure: NodeJS.ErrnoException | undefined;
  private closed = false;
  /** Wakes a read or poll waiting for data. */
  private readonly waiters = new Set<() => void>();

  constructor(stream: Socket) {
    this.stream = stream;
    this.listen(stream);
  }

  get socket(): Socket | TLSSocket {
    return this.stream;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered > READ_BUFFER_HIGH) this.stream.pause();
    this.wake();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.wake();
  };

  private readonly onError = (error: NodeJS.ErrnoException): void => {
    this.failure ??= error;
    this.wake();
  };

  private listen(stream: Socket | TLSSocket): void {
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('error', this.onError);
    stream.on('close', this.onEnd);
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
    this.waiters.clear();
  }

  /** True when a read would not wait. */
  get readable(): boolean {
    return this.buffered > 0 || this.ended || this.failure !== undefined || this.closed;
  }

  /**
   * Waits until readable or `timeoutMs` passed (negative: no limit), or until `cancel` aborts
   * (a poll over several connections ends at the first); true when readable.
   */
  async waitReadable(timeoutMs: number, cancel?: AbortSignal): Promise<boolean> {
    if (this.readable) return true;
    if (timeoutMs === 0 || cancel?.aborted === true) return false;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (readable: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        cancel?.removeEventListener('abort', onCancel);
        resolve(readable);
      };
      const waiter = (): void => settle(true);
      const onCancel = (): void => settle(false);
      this.waiters.add(waiter);
      cancel?.addEventListener('abort', onCancel);
      if (timeoutMs > 0) timer = setTimeout(() => settle(false), timeoutMs);
    });
  }

  /** Up to `max` bytes, as soon as any are there (see ReadResult). */
  async read(max: number, timeoutMs: number): Promise<ReadResult> {
    if (!(await this.waitReadable(timeoutMs))) return { timedOut: true };
    if (this.buffered > 0) {
      const data = this.take(max);
      return { data, endsStream: this.buffered === 0 && this.ended && this.failure === undefined };
    }
    if (this.failure !== undefined) return { failure: this.failure };
    return { eof: true };
  }

  private take(max: number): Buffer {
    const data = this.buffered <= max && this.chunks.length === 1 ? this.chunks.pop()! : this.takeSlice(max);
    this.buffered -= data.length;
    if (this.stream.isPaused() && this.buffered <= READ_BUFFER_HIGH / 2) this.stream.resume();
    return data;
  }

  private takeSlice(max: number): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks.length = 0;
    if (all.length > max) this.chunks.push(all.subarray(max));
    return all.subarray(0, max);
  }

  /** Resolves once `data` is handed to the kernel's buffer or the socket failed (then the error). */
  async write(data: Buffer): Promise<NodeJS.ErrnoException | undefined> {
    if (this.failure !== undefined) return this.failure;
    if (this.closed || this.stream.writableEnded) return Object.assign(new Error('Broken pipe'), { code: 'EPIPE' });
    if (this.stream.write(data)) return undefined;
    return new Promise((resolve) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        resolve(this.failure);
      };
      this.stream.on('drain', done);
      this.stream.on('close', done);
    });
  }

  /** `shutdown(SHUT_WR)`: no more writes; reading goes on. */
  endWrites(): void {
    this.stream.end();
  }

  /** From now on the connection speaks through `tls` (which took over the raw socket). */
  upgrade(tls: TLSSocket): void {
    const raw = this.stream;
    raw.off('data', this.onData);
    raw.off('end', this.onEnd);
    raw.off('close', this.onEnd);
    // Errors of the raw socket surface through the TLS socket; keep one listener so none is unhandled.
    raw.off('error', this.onError);
    raw.on('error', () => {});
    this.stream = tls;
    this.listen(tls);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.destroy();
    this.wake();
  }
}
