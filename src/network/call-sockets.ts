/**
 * The sockets of the call a worker is running (a worker runs one call at a time), and the
 * names it resolved: a connect to an address the script resolved from a name is checked against
 * that name's rules too. Everything is closed when the call ends (the script posts `net.endCall`)
 * or when its worker goes away (terminated at a deadline, recycled, crashed).
 */
import type { HostConnection } from './host-connection.js';

export class CallSockets {
  private readonly open = new Map<number, HostConnection>();
  private readonly resolvedNames = new Map<string, string>();
  private lastId = 0;

  constructor(private readonly limit: number) {}

  /** False when the call already holds `limit` sockets. */
  get hasRoom(): boolean {
    return this.open.size < this.limit;
  }

  add(connection: HostConnection): number {
    const id = ++this.lastId;
    this.open.set(id, connection);
    return id;
  }

  get(id: number): HostConnection | undefined {
    return this.open.get(id);
  }

  close(id: number): void {
    this.open.get(id)?.close();
    this.open.delete(id);
  }

  rememberName(address: string, name: string): void {
    this.resolvedNames.set(address, name);
  }

  /** The name the script resolved to `address` during this call, if any. */
  nameOf(address: string): string | undefined {
    return this.resolvedNames.get(address);
  }

  /** The call ended: every socket it left open is closed. */
  endCall(): void {
    for (const connection of this.open.values()) connection.close();
    this.open.clear();
    this.resolvedNames.clear();
  }
}
