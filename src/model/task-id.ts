import { randomBytes } from 'node:crypto';

const TASK_ID_BYTES = 18;
// One randomBytes call per 256 ids: a call per request showed in the sync path's profile.
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

/** `task-` + 24 unguessable characters (CONTRACT section 8). */
export function newTaskId(): string {
  if (randomOffset + TASK_ID_BYTES > randomPool.length) {
    randomPool = randomBytes(TASK_ID_BYTES * 256);
    randomOffset = 0;
  }
  const id = randomPool.toString('base64url', randomOffset, randomOffset + TASK_ID_BYTES);
  randomOffset += TASK_ID_BYTES;
  return `task-${id}`;
}
