// Default import: named imports of a CommonJS module depend on the loader detecting them.
import taskState from './task-state.cjs';

const { TASK_STATE_BYTES } = taskState;

/** Call states per SharedArrayBuffer. */
const SLOTS_PER_SLAB = 1024;

/** Where one call's shared state lives: a byte offset into a slab. */
export interface TaskStateSlot {
  buffer: SharedArrayBuffer;
  offset: number;
  state: Int32Array;
}

/**
 * Per-call shared state (task-state.cts), carved from large SharedArrayBuffers: a buffer per
 * call cost an allocation, a backing store for the GC to track, and a new buffer for the
 * worker to map, on every call. A slot goes back to the free list only once the worker is
 * done with its call (see CallDispatcher.finish); it is zeroed when handed out again.
 */
export class TaskStateSlab {
  private readonly free: TaskStateSlot[] = [];

  acquire(): TaskStateSlot {
    if (this.free.length === 0) this.grow();
    const slot = this.free.pop()!;
    slot.state.fill(0);
    return slot;
  }

  release(slot: TaskStateSlot): void {
    this.free.push(slot);
  }

  private grow(): void {
    const buffer = new SharedArrayBuffer(SLOTS_PER_SLAB * TASK_STATE_BYTES);
    for (let i = SLOTS_PER_SLAB - 1; i >= 0; i--) {
      const offset = i * TASK_STATE_BYTES;
      this.free.push({ buffer, offset, state: new Int32Array(buffer, offset, TASK_STATE_BYTES / 4) });
    }
  }
}
