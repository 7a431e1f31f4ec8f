import type { MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import { GitfuncError } from '../../errors.js';
import type { BridgeAnswer, BridgeHello, BridgeRequest } from './bridge-protocol.cjs';
// A default import: named imports of a CommonJS module depend on the loader detecting them.
import bridgeProtocol from './bridge-protocol.cjs';

const { UNANSWERED_ID } = bridgeProtocol;

/**
 * The worker a request came from. Its requests arrive in the order it sent them. State an op
 * keeps per worker (a call's sockets) is released in `onClose`, run when the worker's channel
 * closes: the worker exited, was recycled or terminated at a deadline.
 */
export class BridgePeer {
  private readonly closeHooks: (() => void)[] = [];
  private closed = false;

  /** Runs `hook` once when the worker is gone (at once if it already is). */
  onClose(hook: () => void): void {
    if (this.closed) hook();
    else this.closeHooks.push(hook);
  }

  /** Called by the server when the channel closes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const hook of this.closeHooks.splice(0)) hook();
  }
}

/** Runs one bridge op with its parsed JSON arguments; the answer must be JSON-able. */
export type BridgeHandler = (args: unknown, peer: BridgePeer) => unknown;

/** A request a handler refuses (bad argument): it goes back to the script as it is. */
export class BridgeRefusal extends GitfuncError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('BRIDGE_REFUSED', message, data);
    this.name = 'BridgeRefusal';
  }
}

/** True for the message a worker posts when it opens its bridge. */
export function isBridgeHello(message: unknown): message is BridgeHello {
  return typeof message === 'object' && message !== null && 'bridgePort' in message && 'answered' in message;
}

/**
 * The server thread's end of the bridge (see bridge-protocol.cts): answers each worker's
 * requests with the handler registered for the op. Handlers may be async (a Redis store).
 */
export class BridgeServer {
  private readonly handlers = new Map<string, BridgeHandler>();

  constructor(private readonly logger: Logger) {}

  /** Makes `op` callable from scripts. */
  register(op: string, handler: BridgeHandler): void {
    this.handlers.set(op, handler);
  }

  /** Starts answering the requests of the worker that sent `hello`. */
  attach(hello: BridgeHello): void {
    const port = hello.bridgePort;
    const answered = new Int32Array(hello.answered);
    const peer = new BridgePeer();
    port.on('message', (request: BridgeRequest) => void this.answer(port, answered, peer, request));
    port.on('close', () => peer.close());
    // The channel closes with its worker; it must not keep the process alive on its own.
    port.unref();
  }

  private async answer(port: MessagePort, answered: Int32Array, peer: BridgePeer, request: BridgeRequest): Promise<void> {
    let answer: BridgeAnswer;
    try {
      const handler = this.handlers.get(request.op);
      if (handler === undefined) throw new BridgeRefusal(`unknown server operation '${request.op}'`);
      const value = await handler(JSON.parse(request.argsJson), peer);
      answer = { id: request.id, outcome: 'ok', valueJson: JSON.stringify(value ?? null) };
    } catch (error) {
      if (!(error instanceof BridgeRefusal)) this.logger.error({ err: error, op: request.op }, 'bridge operation failed');
      // What went wrong in the server stays in its log: the script learns only that it failed.
      const sent = error instanceof BridgeRefusal ? error : new GitfuncError('BRIDGE_FAILED', `the server failed ${request.op}`, { op: request.op });
      answer = { id: request.id, outcome: 'error', error: sent.toJSON() };
    }
    if (request.id === UNANSWERED_ID) return; // nobody waits for it
    port.postMessage(answer);
    Atomics.add(answered, 0, 1);
    Atomics.notify(answered, 0);
  }
}
