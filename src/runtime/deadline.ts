// Default import: named imports of a CommonJS module depend on the loader detecting them.
import taskState from './task-state.cjs';

const { INTERRUPT_SLOT, NOT_STARTED, SIGINT, THREAD_SLOT } = taskState;

export interface DeadlineHandlers {
  /** The deadline passed: Python has just been asked to stop. */
  onExpired(): void;
  /** The task still runs a grace period later, on this thread. */
  onStuck(threadId: number): void;
}

/**
 * Interrupts a task at its deadline through its shared state, and reports it stuck if it has
 * not stopped after `graceMs`. Returns `disarm`, to call when the task has ended.
 */
export function armDeadline(state: Int32Array, timeoutMs: number, graceMs: number, handlers: DeadlineHandlers): () => void {
  let graceTimer: NodeJS.Timeout | undefined;
  const deadlineTimer = setTimeout(() => {
    // A worker that reaches the task later sees the flag and skips it.
    Atomics.store(state, INTERRUPT_SLOT, SIGINT);
    handlers.onExpired();
    graceTimer = setTimeout(() => {
      const threadId = Atomics.load(state, THREAD_SLOT);
      if (threadId !== NOT_STARTED) handlers.onStuck(threadId);
    }, graceMs);
  }, timeoutMs);
  return () => {
    clearTimeout(deadlineTimer);
    clearTimeout(graceTimer);
  };
}

/**
 * armDeadline, with the time counted from when a worker starts the task (it publishes its
 * thread id) instead of from now: for work whose limit is about running, not waiting for a
 * worker (async tasks, cron runs, import checks), which may be a replacement still loading.
 */
export function armDeadlineAtStart(state: Int32Array, timeoutMs: number, graceMs: number, handlers: DeadlineHandlers): () => void {
  let disarm: (() => void) | undefined;
  let done = false;
  const arm = (): void => {
    if (!done) disarm = armDeadline(state, timeoutMs, graceMs, handlers);
  };
  const started = Atomics.waitAsync(state, THREAD_SLOT, NOT_STARTED);
  if (started.async) void started.value.then(arm);
  else arm();
  return () => {
    done = true;
    disarm?.();
    Atomics.notify(state, THREAD_SLOT); // releases the wait of a task that never started
  };
}
