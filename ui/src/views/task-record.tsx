import { duration, json, shortCommit, when } from '../format.js';
import { usePoll } from '../poll.js';
import { tasksHash } from '../route.js';
import { useSession } from '../session.js';
import type { TaskRecord as Record } from '../types.js';
import { ActionButton, Loaded, StatusBadge } from '../widgets.js';

/** One task record: what it was called with, what it returned, printed and raised. */
export function TaskRecord(props: { id: string }) {
  const session = useSession();
  const record = usePoll<Record>(`/api/v1/tasks/${encodeURIComponent(props.id)}`, session.signOut);
  return (
    <section class="task-record">
      <p>
        <a href={tasksHash({})}>← Task records</a>
      </p>
      <Loaded answer={record.answer} what="Task record">
        {(task) => <RecordView task={task} refresh={record.refresh} />}
      </Loaded>
    </section>
  );
}

function RecordView(props: { task: Record; refresh(): void }) {
  const { task } = props;
  const cancellable = task.status === 'queued' || task.status === 'running';
  return (
    <>
      <h2>
        <code>{task.id}</code> <StatusBadge status={task.status} />{' '}
        {cancellable && (
          <ActionButton label="Cancel" path={`/api/v1/tasks/${encodeURIComponent(task.id)}/cancel`} confirm="Cancel this task?" done={props.refresh} />
        )}
      </h2>
      <dl class="facts">
        <dt>API or job</dt>
        <dd>
          {task.originId} <span class="muted">({task.origin})</span>
        </dd>
        <dt>Function</dt>
        <dd>
          <code>{task.funcId}</code>
        </dd>
        <dt>Commit</dt>
        <dd>
          <code title={task.commit}>{shortCommit(task.commit)}</code>
        </dd>
        <dt>Triggered</dt>
        <dd>{when(task.triggerTime)}</dd>
        <dt>Ran</dt>
        <dd>
          {when(task.startTime)} → {when(task.endTime)} <span class="muted">({duration(task.startTime, task.endTime)})</span>
        </dd>
        <dt>Attempt</dt>
        <dd>{task.attempt}</dd>
      </dl>
      <h3>Kwargs</h3>
      <pre class="kwargs">{json(task.kwargs)}</pre>
      {'returnValue' in task && (
        <>
          <h3>Result</h3>
          <pre class="result">{json(task.returnValue)}</pre>
        </>
      )}
      <h3>Print log</h3>
      {task.printLogs ? <pre class="print-log">{task.printLogs}</pre> : <p class="muted">Nothing printed.</p>}
      {(task.exceptionType !== undefined || task.traceback !== undefined) && (
        <>
          <h3>Exception</h3>
          <p class="error-text exception">
            {task.exceptionType}: {task.exceptionText}
          </p>
          {task.traceback && <pre class="traceback">{task.traceback}</pre>}
        </>
      )}
    </>
  );
}
