/**
 * Messages of the bridge from a worker's running script to the server thread (types only;
 * a `.cts` file so the CommonJS worker and the ESM server share it).
 *
 * A worker opens its bridge once, posting a BridgeHello on its parentPort (Piscina forwards it
 * to the pool's 'message' event) that carries one end of a MessageChannel and a shared answer
 * counter. Requests and answers then travel on that channel: the server posts each answer,
 * then bumps the counter and notifies it, which wakes the worker blocked in `Atomics.wait`.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ErrorJSON } from '../../errors.js' with { 'resolution-mode': 'import' };

export interface BridgeHello {
  bridgePort: MessagePort;
  /** Int32 slot 0: bumped after each answer is posted. */
  answered: SharedArrayBuffer;
}

/** The id of a request the worker posts without waiting: the server sends no answer. */
export const UNANSWERED_ID = 0;

export interface BridgeRequest {
  /** UNANSWERED_ID, or a number the answer repeats. */
  id: number;
  op: string;
  argsJson: string;
}

/** An error answer carries a GitfuncError's JSON: BRIDGE_REFUSED or BRIDGE_FAILED (BRIDGE_TIMEOUT is the worker's own). */
export type BridgeAnswer = { id: number; outcome: 'ok'; valueJson: string } | { id: number; outcome: 'error'; error: ErrorJSON };
