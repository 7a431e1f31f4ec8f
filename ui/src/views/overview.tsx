import { millis, shortCommit, when } from '../format.js';
import type { Polled } from '../poll.js';
import { usePoll } from '../poll.js';
import { useSession } from '../session.js';
import type { Deploys, DeployEntry, Stats, Status } from '../types.js';
import { ActionButton, Loaded, ProblemLine, StatusBadge } from '../widgets.js';

/** The served commit, the pin, workers and queue, and the deploy history with rollback. */
export function Overview(props: { status: Polled<Status> }) {
  const session = useSession();
  const deploys = usePoll<Deploys>('/api/v1/deploys', session.signOut);
  const stats = usePoll<Stats>('/api/v1/stats', session.signOut);
  const refresh = (): void => {
    deploys.refresh();
    props.status.refresh();
  };
  return (
    <>
      <Loaded answer={props.status.answer} what="Status">
        {(status) => (
          <>
            <Served status={status} />
            <LastFailed status={status} />
            <Workers status={status} stats={stats.answer?.state === 'ok' ? stats.answer.data : undefined} />
          </>
        )}
      </Loaded>
      <section>
        <h2>Deploy history</h2>
        <Loaded answer={deploys.answer} what="Deploy history">
          {(data) => <History deploys={data} refresh={refresh} />}
        </Loaded>
      </section>
    </>
  );
}

function Served(props: { status: Status }) {
  const { revision, phase, ready, reload } = props.status;
  return (
    <section>
      <h2>Served commit</h2>
      <dl class="facts">
        <dt>Commit</dt>
        <dd>
          <code class="served-commit" title={revision?.commit}>
            {revision?.commit ?? 'none yet'}
          </code>
        </dd>
        <dt>Loaded</dt>
        <dd>
          {when(revision?.loadedAt)} {revision?.loadMs != null && <span class="muted">in {millis(revision.loadMs)}</span>}
        </dd>
        <dt>Ref</dt>
        <dd>
          <code>{reload.ref}</code> <span class="muted">({reload.state})</span>
        </dd>
        <dt>Phase</dt>
        <dd>
          <StatusBadge status={ready ? 'ready' : phase} />
        </dd>
      </dl>
      {revision !== null && revision.failedScripts.length > 0 && (
        <>
          <h3>Scripts left out</h3>
          <ul class="problems">
            {revision.failedScripts.map((failed) => (
              <ProblemLine key={failed.script} problem={{ file: failed.file, line: failed.line, col: failed.col, message: failed.error }} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function LastFailed(props: { status: Status }) {
  const failed = props.status.reload.lastFailed;
  if (failed === null) return null;
  return (
    <section class="last-failed">
      <h2>Last failed commit</h2>
      <p>
        <code>{shortCommit(failed.commit)}</code> ({failed.source}, {when(failed.at)}): not served.
      </p>
      <ul class="problems">
        {failed.errors.map((problem, index) => (
          <ProblemLine key={index} problem={problem} />
        ))}
      </ul>
    </section>
  );
}

function Workers(props: { status: Status; stats: Stats | undefined }) {
  const { pool, queue } = props.status;
  return (
    <section>
      <h2>Workers and queue</h2>
      <dl class="facts">
        <dt>Workers</dt>
        <dd class="workers-summary">
          {pool.workers} ({pool.busyWorkers} busy, {pool.recycled} recycled)
        </dd>
        <dt>Queue depth</dt>
        <dd class="queue-depth">
          {queue.asyncWaiting} async waiting, {queue.asyncTasks} async running, {queue.cronRuns} cron running, {pool.queuedSync} sync calls waiting
        </dd>
      </dl>
      <table class="workers">
        <thead>
          <tr>
            <th>Thread</th>
            <th>State</th>
            <th class="num">Calls</th>
            <th class="num">Heap</th>
          </tr>
        </thead>
        <tbody>
          {pool.threads.map((thread) => (
            <tr key={thread.threadId}>
              <td>{thread.threadId}</td>
              <td>
                <StatusBadge status={thread.retiring ? 'retiring' : thread.ready ? 'ready' : 'starting'} />
              </td>
              <td class="num">{thread.calls}</td>
              <td class="num">{thread.heapMB} MiB</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function History(props: { deploys: Deploys; refresh(): void }) {
  const { served, pinned, deploys } = props.deploys;
  return (
    <>
      {pinned !== null ? (
        <p class="pinned">
          Pinned to <code>{shortCommit(pinned.commit)}</code> by a rollback at {when(pinned.at)}: new pushes end the pin.{' '}
          <ActionButton label="Unpin" path="/api/v1/unpin" done={props.refresh} />
        </p>
      ) : (
        <p class="muted">Not pinned: the newest good commit of the ref is served.</p>
      )}
      <table class="deploys">
        <thead>
          <tr>
            <th>When</th>
            <th>Why</th>
            <th>Result</th>
            <th>Commit</th>
            <th>Details</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {deploys.map((entry) => (
            <DeployRow key={entry.id} entry={entry} served={served} refresh={props.refresh} />
          ))}
        </tbody>
      </table>
    </>
  );
}

function DeployRow(props: { entry: DeployEntry; served: string | null; refresh(): void }) {
  const { entry } = props;
  const canRollBack = entry.result === 'served' && entry.commit !== null && entry.commit !== props.served;
  return (
    <tr class={entry.current ? 'current' : undefined} data-commit={entry.commit ?? ''}>
      <td>{when(entry.at)}</td>
      <td>{entry.trigger}</td>
      <td>
        <StatusBadge status={entry.result} />
        {entry.current && <span class="muted"> serving</span>}
      </td>
      <td>
        <code title={entry.commit ?? undefined}>{shortCommit(entry.commit)}</code>
      </td>
      <td>
        {entry.ms !== null && <span class="muted">built in {millis(entry.ms)}</span>}
        {entry.fetchError !== null && <span class="error-text">{entry.fetchError.message}</span>}
        {entry.errors.length > 0 && (
          <ul class="problems">
            {entry.errors.map((problem, index) => (
              <ProblemLine key={index} problem={problem} />
            ))}
          </ul>
        )}
      </td>
      <td>
        {canRollBack && (
          <ActionButton
            label="Roll back"
            path="/api/v1/rollback"
            body={{ commit: entry.commit }}
            confirm={`Serve ${shortCommit(entry.commit)} again and pin it?`}
            done={props.refresh}
          />
        )}
      </td>
    </tr>
  );
}
