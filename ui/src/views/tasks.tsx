import { useState } from 'preact/hooks';
import { duration, shortCommit, when } from '../format.js';
import { type Polled, usePoll } from '../poll.js';
import { taskHash, tasksHash } from '../route.js';
import { useSession } from '../session.js';
import { TASK_STATUSES, type Status, type TaskPage } from '../types.js';
import { Loaded, StatusBadge } from '../widgets.js';

const PAGE_SIZE = 25;

/** Task records, newest first, filtered by API (or cron job) and status, a page at a time. */
export function Tasks(props: { status: Polled<Status>; originId: string; statusFilter: string }) {
  const session = useSession();
  // The cursors of the pages before this one: [] is the newest page, which keeps updating.
  // (The app keys this view by its filters, so new filters start on the newest page.)
  const [cursors, setCursors] = useState<string[]>([]);
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (props.originId) params.set('originId', props.originId);
  if (props.statusFilter) params.set('status', props.statusFilter);
  const before = cursors.at(-1);
  if (before !== undefined) params.set('before', before);
  const page = usePoll<TaskPage>(`/api/v1/task-records?${params.toString()}`, session.signOut);

  const status = props.status.answer?.state === 'ok' ? props.status.answer.data : undefined;
  const origins = status === undefined ? [] : [...status.syncAPIs, ...status.asyncAPIs, ...status.cronJobs].map((entry) => entry.id);
  const choose = (change: { originId?: string; status?: string }): void => {
    location.hash = tasksHash({ originId: props.originId, status: props.statusFilter, ...change });
  };

  return (
    <section>
      <h2>Task records</h2>
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <label>
          API or cron job{' '}
          <select name="originId" value={props.originId} onChange={(event) => choose({ originId: (event.target as HTMLSelectElement).value })}>
            <option value="">all</option>
            {[...new Set([...origins, ...(props.originId ? [props.originId] : [])])].map((id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status{' '}
          <select name="status" value={props.statusFilter} onChange={(event) => choose({ status: (event.target as HTMLSelectElement).value })}>
            <option value="">all</option>
            {TASK_STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </label>
      </form>
      <Loaded answer={page.answer} what="Task records">
        {(data) => (
          <>
            {data.records.length === 0 ? (
              <p class="muted">No record matches.</p>
            ) : (
              <table class="tasks">
                <thead>
                  <tr>
                    <th>Triggered</th>
                    <th>API or job</th>
                    <th>Origin</th>
                    <th>Status</th>
                    <th class="num">Took</th>
                    <th>Commit</th>
                    <th>Record</th>
                  </tr>
                </thead>
                <tbody>
                  {data.records.map((record) => (
                    <tr key={record.id} data-task={record.id}>
                      <td>{when(record.triggerTime)}</td>
                      <td>{record.originId}</td>
                      <td>{record.origin}</td>
                      <td>
                        <StatusBadge status={record.status} />
                      </td>
                      <td class="num">{duration(record.startTime, record.endTime)}</td>
                      <td>
                        <code>{shortCommit(record.commit)}</code>
                      </td>
                      <td>
                        <a href={taskHash(record.id)}>{record.id}</a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <p class="paging">
              {cursors.length > 0 && (
                <button type="button" class="secondary" onClick={() => setCursors([])}>
                  Newest
                </button>
              )}
              {data.next !== null && (
                <button type="button" class="secondary" onClick={() => setCursors([...cursors, data.next!])}>
                  Older
                </button>
              )}
            </p>
          </>
        )}
      </Loaded>
    </section>
  );
}
