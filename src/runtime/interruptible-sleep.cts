/**
 * The worker's `time.sleep`: Emscripten's own sleep spins a core for the whole nap and never
 * sees the call's deadline. This one blocks the thread in `Atomics.wait`, in short slices, and
 * asks Pyodide between them whether the deadline passed (as the bridge's wait does).
 */

export interface SleepOptions {
  /** Throws into Python when the call's deadline passed (Pyodide's checkInterrupt). */
  checkInterrupt(): void;
  /** The nap is cut into slices this long, so a deadline ends it promptly. */
  sliceMs: number;
}

/**
 * Returns `sleep(ms)`: returns after `ms` milliseconds (Infinity: only the deadline ends it),
 * or throws KeyboardInterrupt into Python through `checkInterrupt` once the deadline passed.
 */
export function createInterruptibleSleep(options: SleepOptions): (ms: number) => void {
  // Nobody ever notifies this cell: each wait lasts its whole slice.
  const never = new Int32Array(new SharedArrayBuffer(4));
  return (ms) => {
    const until = performance.now() + ms;
    for (;;) {
      options.checkInterrupt();
      const left = until - performance.now();
      if (left <= 0) return;
      Atomics.wait(never, 0, 0, Math.min(options.sliceMs, left));
    }
  };
}
