import type { ReloadStatus } from '../revision/reload-status.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { WorkerPool } from '../runtime/pool.js';
import type { ReplicaState } from './replica-heartbeat.js';

/** What a replica announces of itself: the commit it serves, its last reload, its workers. */
export function replicaState(holder: RevisionHolder, reload: ReloadStatus, pool: WorkerPool): ReplicaState {
  return {
    commit: holder.current?.commit ?? null,
    lastReload: {
      state: reload.state,
      lastFetchAt: reload.lastFetchAt,
      lastFetchedCommit: reload.lastFetchedCommit,
      lastFetchError: reload.lastFetchError,
      lastFailed: reload.lastFailed === null ? null : { commit: reload.lastFailed.commit, at: reload.lastFailed.at },
    },
    workers: workersOf(pool),
  };
}

function workersOf(pool: WorkerPool): { count: number; ready: number; backgroundSlots: number; recycled: number } {
  const { recycled, threads } = pool.workerStatus();
  return { count: pool.workers, ready: threads.filter((thread) => thread.ready && !thread.retiring).length, backgroundSlots: pool.backgroundSlots, recycled };
}
