/**
 * Per-task state shared by the server thread and the worker running the task: an Int32Array
 * over a SharedArrayBuffer. Slot 0 is Pyodide's interrupt buffer for the task (the server
 * writes SIGINT at the deadline); the worker writes its thread id to slot 1 when it starts
 * the task, so the server knows which thread to terminate if the task never stops.
 * A `.cts` file so the CommonJS worker and the ESM server share it.
 */
export const TASK_STATE_BYTES = 8;
export const INTERRUPT_SLOT = 0;
export const THREAD_SLOT = 1;
/** Slot 1 before a worker started the task. */
export const NOT_STARTED = 0;
export const SIGINT = 2;
