import { millis, when } from '../format.js';
import { type Polled, usePoll } from '../poll.js';
import { tasksHash } from '../route.js';
import { useSession } from '../session.js';
import type { ApiStats, Stats, Status } from '../types.js';
import { Loaded } from '../widgets.js';

/** Every served API with its calls, errors and latency since the server started. */
export function Apis(props: { status: Polled<Status> }) {
  const session = useSession();
  const stats = usePoll<Stats>('/api/v1/stats', session.signOut);
  return (
    <section>
      <h2>APIs</h2>
      <Loaded answer={props.status.answer} what="Status">
        {(status) => {
          const counted = stats.answer?.state === 'ok' ? stats.answer.data.apis : undefined;
          const served = [
            ...status.syncAPIs.map((api) => ({ ...api, kind: 'sync' as const })),
            ...status.asyncAPIs.map((api) => ({ ...api, kind: 'async' as const })),
          ];
          return (
            <>
              {stats.answer?.state === 'unavailable' && <p class="muted unavailable">Call statistics: not available on this server.</p>}
              {stats.answer?.state === 'error' && <p class="error-text">Call statistics: {stats.answer.message}</p>}
              {stats.answer?.state === 'ok' && <p class="muted">Counted since {when(stats.answer.data.since)}, when the server started.</p>}
              <table class="apis">
                <thead>
                  <tr>
                    <th>API</th>
                    <th>Kind</th>
                    <th>Function</th>
                    <th class="num">Calls</th>
                    <th class="num">Errors</th>
                    <th class="num">p50</th>
                    <th class="num">p99</th>
                  </tr>
                </thead>
                <tbody>
                  {served.map((api) => {
                    const counts: ApiStats | undefined = counted?.find((entry) => entry.id === api.id && entry.kind === api.kind);
                    return (
                      <tr key={`${api.kind}:${api.id}`} data-api={api.id}>
                        <td>
                          <a href={tasksHash({ originId: api.id })}>{api.id}</a>
                        </td>
                        <td>{api.kind}</td>
                        <td>
                          <code>{api.funcId}</code>
                        </td>
                        <td class="num calls">{counts?.calls ?? '—'}</td>
                        <td class={`num errors${counts !== undefined && counts.errors > 0 ? ' error-text' : ''}`}>{counts?.errors ?? '—'}</td>
                        <td class="num">{millis(counts?.p50Ms)}</td>
                        <td class="num">{millis(counts?.p99Ms)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </>
          );
        }}
      </Loaded>
    </section>
  );
}
