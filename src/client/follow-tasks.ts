/**
 * `gitfunc tasks --follow`: a line for every record that ends from now on, until interrupted.
 *
 * Each poll asks for the records that ended since the previous answer (`endedSince`, by the
 * server's clock from its `Date` header, so the client's clock does not matter), less an
 * overlap for a record stored a moment after it ended; ids already printed are skipped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandOutput } from './output.js';
import { answerData, requestServer, type ServerTarget } from './server-client.js';
import { recordLine } from './task-view.js';
import type { TaskRecordView } from '../model/task-record.js';

export const FOLLOW_POLL_MS = 1000;
/** How far before the previous answer a poll reaches back: the `Date` header's second, plus a run stored late. */
const OVERLAP_MS = 2000;
/** Records per request (the route's maximum); a busier poll reads further pages. */
const PAGE_LIMIT = 500;

interface Poll {
  records: TaskRecordView[];
  /** The server's time when it answered (to the second; the client's when it sent no `Date`). */
  serverNow: number;
}

/** One page of `GET /api/v1/task-records` with the query `query`. */
async function recordPage(target: ServerTarget, query: string): Promise<Poll & { next: string | null }> {
  const answer = await requestServer(target, 'GET', `/api/v1/task-records?${query}`);
  const page = answerData(answer) as { records: TaskRecordView[]; next: string | null };
  return { records: page.records, next: page.next, serverNow: answer.date ?? Date.now() };
}

/** The records that ended at or after `endedSince`, every page of them. */
async function pollEnded(target: ServerTarget, endedSince: number): Promise<Poll> {
  const first = await recordPage(target, `endedSince=${endedSince}&limit=${PAGE_LIMIT}`);
  const records = first.records;
  for (let next = first.next; next !== null; ) {
    const page = await recordPage(target, `endedSince=${endedSince}&limit=${PAGE_LIMIT}&before=${next}`);
    records.push(...page.records);
    next = page.next;
  }
  return { records, serverNow: first.serverNow };
}

const ended = (r: TaskRecordView): number => r.endTime ?? r.triggerTime;

/** Prints records as they end until `stop` aborts; resolves to 0 then. */
export async function followTasks(target: ServerTarget, pollMs: number, out: CommandOutput, stop: AbortSignal): Promise<number> {
  // "Now" by the server's clock (this also checks the token before anything else).
  const { serverNow } = await recordPage(target, 'limit=1');
  let since = serverNow - OVERLAP_MS;
  // What had ended by then is history, not printed.
  const baseline = await pollEnded(target, since);
  /** Ids seen, with when they ended; forgotten once no poll reaches back to them. */
  const seen = new Map(baseline.records.map((r) => [r.id, ended(r)]));
  let answeredAt = baseline.serverNow;
  out.stderr(`following task records that end from ${new Date(serverNow).toISOString()} (Ctrl-C to stop)\n`);
  for (;;) {
    try {
      await sleep(pollMs, undefined, { signal: stop });
    } catch {
      return 0; // interrupted while waiting
    }
    since = Math.max(since, answeredAt - OVERLAP_MS);
    for (const [id, at] of seen) if (at < since) seen.delete(id);
    const poll = await pollEnded(target, since);
    answeredAt = poll.serverNow;
    const fresh = poll.records.filter((r) => !seen.has(r.id)).sort((a, b) => ended(a) - ended(b));
    for (const record of fresh) {
      seen.set(record.id, ended(record));
      out.stdout(`${recordLine(record)}\n`);
    }
    if (stop.aborted) return 0;
  }
}
