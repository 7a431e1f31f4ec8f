// The JSON the dashboard reads: `data` of each admin endpoint (see src/http/*-api.ts).

export interface Problem {
  file: string;
  line: number;
  col: number;
  severity?: string;
  message: string;
}

export interface Status {
  phase: string;
  ready: boolean;
  revision: {
    commit: string;
    loadedAt: string | null;
    loadMs: number | null;
    warnings: Problem[];
    failedScripts: { script: string; file: string; line: number; col: number; error: string }[];
  } | null;
  syncAPIs: { id: string; funcId: string }[];
  asyncAPIs: { id: string; funcId: string }[];
  cronJobs: { id: string; funcId: string; expression: string; timezone?: string; nextFireAt: string | null }[];
  queue: { asyncWaiting: number; asyncTasks: number; cronRuns: number };
  pool: {
    workers: number;
    busyWorkers: number;
    queuedSync: number;
    recycled: number;
    threads: { threadId: number; ready: boolean; calls: number; heapMB: number; retiring: boolean }[];
  };
  reload: {
    ref: string;
    state: string;
    lastFailed: { commit: string; at: string; source: string; errors: Problem[] } | null;
  };
}

// The server's own types for /api/v1/stats: type-only, so nothing of the server is bundled.
export type { ApiStats, CronStats } from '../../src/model/call-stats.js';
import type { ApiStats, CronStats } from '../../src/model/call-stats.js';

export interface Stats {
  since: string;
  apis: ApiStats[];
  cronJobs: CronStats[];
  workers: Record<string, number>;
  queueDepth: number;
}

export interface DeployEntry {
  id: number;
  at: string;
  trigger: string;
  result: string;
  commit: string | null;
  previousCommit: string | null;
  ms: number | null;
  errors: Problem[];
  fetchError: { code: string; message: string } | null;
  current: boolean;
}

export interface Deploys {
  served: string | null;
  pinned: { commit: string; at: string; headAtPin: string | null } | null;
  deploys: DeployEntry[];
}

// The server's own record types, type-only as above.
export type { TaskStatus, TaskRecordView as TaskRecord } from '../../src/model/task-record.js';
import type { TaskRecordView, TaskStatus } from '../../src/model/task-record.js';

export const TASK_STATUSES: readonly TaskStatus[] = ['queued', 'running', 'success', 'failure', 'timeout', 'skip', 'cancelled'];

export interface TaskPage {
  records: TaskRecordView[];
  next: string | null;
}
