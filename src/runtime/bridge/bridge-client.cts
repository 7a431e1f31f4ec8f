/**
 * The worker's end of the bridge: a blocking request to the server thread, for Python, which
 * runs synchronously on this thread and cannot await. See bridge-protocol.cts.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import type { ErrorJSON } from '../../errors.js' with { 'resolution-mode': 'import' };
import { type BridgeAnswer, type BridgeHello, type BridgeRequest, UNANSWERED_ID } from './bridge-protocol.cjs';

export interface BridgeClientOptions {
  /** Posts the hello to the server thread (the worker's parentPort). */
  postHello(hello: BridgeHello, transfer: MessagePort[]): void;
  /** Throws into Python when the call's deadline passed (Pyodide's checkInterrupt). */
  checkInterrupt(): void;
  /** How long a request may wait for its answer, unless it says otherwise. */
  timeoutMs: number;
  /** The wait is cut into slices this long, so a deadline stops it promptly. */
  sliceMs: number;
  /** Told before each request is posted (the server thread may be waiting in place: see worker.cts). */
  onRequest?(): void;
}

interface Channel {
  port: MessagePort;
  answered: Int32Array;
}

/** A wait that only the call's deadline ends (a socket read without a timeout). */
export const WAIT_UNTIL_DEADLINE = -1;
/** A request posted without waiting for any answer (closing a call's sockets). */
export const NO_ANSWER = 0;

/**
 * Returns `request(op, argsJson, waitMs?)`: the answer as JSON `{"outcome":"ok","value":...}`
 * or `{"outcome":"error","error":{code,message,data}}` (a GitfuncError's JSON; BRIDGE_TIMEOUT
 * when no answer came within `waitMs`, by default the client's `timeoutMs`;
 * WAIT_UNTIL_DEADLINE waits as long as the call may run). With `waitMs` NO_ANSWER the request
 * is only posted (the server sends no answer) and '' is returned. A deadline passing while it
 * waits throws KeyboardInterrupt into Python through `checkInterrupt`.
 */
export function createBridgeClient(options: BridgeClientOptions): (op: string, argsJson: string, waitMs?: number) => string {
  let channel: Channel | undefined;
  let lastId = 0;

  const open = (): Channel => {
    const { port1, port2 } = new MessageChannel();
    const answered = new SharedArrayBuffer(4);
    options.postHello({ bridgePort: port2, answered }, [port2]);
    return { port: port1, answered: new Int32Array(answered) };
  };

  return (op, argsJson, waitMs = options.timeoutMs) => {
    options.onRequest?.();
    channel ??= open();
    if (waitMs === NO_ANSWER) {
      channel.port.postMessage({ id: UNANSWERED_ID, op, argsJson } satisfies BridgeRequest);
      return '';
    }
    const id = ++lastId;
    channel.port.postMessage({ id, op, argsJson } satisfies BridgeRequest);
    const deadline = waitMs === WAIT_UNTIL_DEADLINE ? Infinity : Date.now() + waitMs;
    for (;;) {
      const seen = Atomics.load(channel.answered, 0);
      const received = receiveMessageOnPort(channel.port);
      if (received !== undefined) {
        const answer = received.message as BridgeAnswer;
        // An older request's answer arriving after it timed out is dropped.
        if (answer.id === id) return encodeAnswer(answer);
        continue;
      }
      options.checkInterrupt();
      const left = deadline - Date.now();
      if (left <= 0) return JSON.stringify({ outcome: 'error', error: timedOut(op, waitMs) });
      Atomics.wait(channel.answered, 0, seen, Math.min(options.sliceMs, left));
    }
  };
}

function encodeAnswer(answer: BridgeAnswer): string {
  return answer.outcome === 'ok' ? `{"outcome":"ok","value":${answer.valueJson}}` : JSON.stringify(answer);
}

function timedOut(op: string, ms: number): ErrorJSON {
  return { code: 'BRIDGE_TIMEOUT', message: `the server did not answer ${op} within ${ms} ms`, data: { ms } };
}
