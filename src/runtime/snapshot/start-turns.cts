/**
 * Turns for the interpreter starts of a pool's first workers: until the first revision is
 * loaded, at most `cores - 1` of them restore (or load) at once, each starting when an earlier
 * one is up, so the server thread keeps a core for loading the rest of the server. Restoring
 * is CPU-bound: on 2 cores, two workers restoring beside the server thread each took about
 * twice as long, and the first call waits for the first worker (start to first call
 * 1.91 s -> 1.49 s, p50 of 8 alternating, load 9).
 *
 * CommonJS: the server thread opens the turns (pool.ts), the workers take them (interpreter.cts).
 */

/** How long a worker waits for its turn at most: a worker that died starting never ends its turn. */
const TURN_WAIT_MAX_MS = 1000;

/** A worker's place in its pool's start order; crosses into the worker as workerData. */
export interface StartTurn {
  /** One Int32: turns open so far (starts ended plus the starts allowed at once). */
  gate: SharedArrayBuffer;
  /** 0 for the pool's first worker, 1 for the second, ... */
  turn: number;
}

/** The gate of a pool whose first workers start `atOnce` at a time. */
export function openStartTurns(atOnce: number): SharedArrayBuffer {
  const gate = new SharedArrayBuffer(4);
  Atomics.store(new Int32Array(gate), 0, Math.max(1, atOnce));
  return gate;
}

/** Resolves once `turn` is open, or after TURN_WAIT_MAX_MS; at once without a turn. */
export async function waitForTurn(turn: StartTurn | undefined): Promise<void> {
  if (turn === undefined) return;
  const cell = new Int32Array(turn.gate);
  const giveUpAt = Date.now() + TURN_WAIT_MAX_MS;
  for (let open = Atomics.load(cell, 0); open <= turn.turn; open = Atomics.load(cell, 0)) {
    const left = giveUpAt - Date.now();
    if (left <= 0) return;
    // A timer besides the wait's own timeout: a pending Atomics.waitAsync keeps no event loop alive.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Atomics.waitAsync(cell, 0, open, left).value, new Promise((resolve) => (timer = setTimeout(resolve, left)))]);
    clearTimeout(timer);
  }
}

/** Opens every turn: the pool's first revision is loaded, the rest of its workers may start together. */
export function openAllTurns(gate: SharedArrayBuffer): void {
  const cell = new Int32Array(gate);
  Atomics.store(cell, 0, 0x3fffffff);
  Atomics.notify(cell, 0);
}

/** This worker's start ended (restored, loaded or failed): the next turn opens. */
export function endTurn(turn: StartTurn | undefined): void {
  if (turn === undefined) return;
  const cell = new Int32Array(turn.gate);
  Atomics.add(cell, 0, 1);
  Atomics.notify(cell, 0);
}
