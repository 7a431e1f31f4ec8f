import { duration, when } from '../format.js';
import { type Polled, usePoll } from '../poll.js';
import { tasksHash, taskHash } from '../route.js';
import { useSession } from '../session.js';
import type { Stats, Status, TaskPage } from '../types.js';
import { Loaded, StatusBadge } from '../widgets.js';

/** Cron jobs with their next fire and run counts, and the latest runs. */
export function CronJobs(props: { status: Polled<Status> }) {
  const session = useSession();
  const stats = usePoll<Stats>('/api/v1/stats', session.signOut);
  const runs = usePoll<TaskPage>('/api/v1/task-records?origin=cronJob&limit=20', session.signOut);
  const counted = stats.answer?.state === 'ok' ? stats.answer.data.cronJobs : undefined;
  return (
    <>
      <section>
        <h2>Cron jobs</h2>
        <Loaded answer={props.status.answer} what="Status">
          {(status) =>
            status.cronJobs.length === 0 ? (
              <p class="muted">The served commit has no cron jobs.</p>
            ) : (
              <table class="cron-jobs">
                <thead>
                  <tr>
                    <th>Job</th>
                    <th>Schedule</th>
                    <th>Next fire</th>
                    <th class="num">Runs</th>
                    <th class="num">Failures</th>
                    <th>Last run</th>
                  </tr>
                </thead>
                <tbody>
                  {status.cronJobs.map((job) => {
                    const counts = counted?.find((entry) => entry.id === job.id);
                    return (
                      <tr key={job.id} data-job={job.id}>
                        <td>
                          <a href={tasksHash({ originId: job.id })}>{job.id}</a>
                        </td>
                        <td>
                          <code>{job.expression}</code> {job.timezone && <span class="muted">{job.timezone}</span>}
                        </td>
                        <td class="next-fire">{when(job.nextFireAt)}</td>
                        <td class="num">{counts?.runs ?? '—'}</td>
                        <td class="num">{counts?.failures ?? '—'}</td>
                        <td>
                          {counts?.lastStatus ? (
                            <>
                              <StatusBadge status={counts.lastStatus} /> {when(counts.lastRunAt)}
                            </>
                          ) : (
                            '—'
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )
          }
        </Loaded>
      </section>
      <section>
        <h2>Last runs</h2>
        <Loaded answer={runs.answer} what="Cron runs">
          {(page) =>
            page.records.length === 0 ? (
              <p class="muted">No run recorded yet.</p>
            ) : (
              <ul class="runs">
                {page.records.map((record) => (
                  <li key={record.id}>
                    <StatusBadge status={record.status} /> <a href={taskHash(record.id)}>{record.originId}</a> {when(record.triggerTime)}{' '}
                    <span class="muted">{duration(record.startTime, record.endTime)}</span>
                  </li>
                ))}
              </ul>
            )
          }
        </Loaded>
      </section>
    </>
  );
}
