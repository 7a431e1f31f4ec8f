import { useEffect, useMemo, useState } from 'preact/hooks';
import { token } from './api.js';
import { shortCommit } from './format.js';
import { usePoll } from './poll.js';
import { parseRoute, type Route } from './route.js';
import { type Session, SessionContext, useSession } from './session.js';
import type { Status } from './types.js';
import { Apis } from './views/apis.js';
import { CronJobs } from './views/cron-jobs.js';
import { Overview } from './views/overview.js';
import { SignIn } from './views/sign-in.js';
import { TaskRecord } from './views/task-record.js';
import { Tasks } from './views/tasks.js';

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const follow = (): void => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  return route;
}

/** Signed in or not: the token lives in sessionStorage; a 401 anywhere signs out. */
export function App() {
  const [signedIn, setSignedIn] = useState(() => token.get() !== null);
  const [notice, setNotice] = useState<string | null>(null);
  const session = useMemo<Session>(
    () => ({
      signOut: (message) => {
        token.clear();
        setNotice(message === undefined ? null : `Signed out: ${message}`);
        setSignedIn(false);
      },
    }),
    [],
  );
  if (!signedIn) {
    return (
      <SignIn
        notice={notice}
        signedIn={(value) => {
          token.set(value);
          setNotice(null);
          setSignedIn(true);
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <Dashboard />
    </SessionContext.Provider>
  );
}

const TABS: { view: Route['view']; label: string; hash: string }[] = [
  { view: 'overview', label: 'Overview', hash: '#/overview' },
  { view: 'apis', label: 'APIs', hash: '#/apis' },
  { view: 'cron', label: 'Cron jobs', hash: '#/cron' },
  { view: 'tasks', label: 'Task records', hash: '#/tasks' },
];

function Dashboard() {
  const route = useRoute();
  const session = useSession();
  const status = usePoll<Status>('/api/v1/status', session.signOut);
  const served = status.answer?.state === 'ok' ? status.answer.data.revision?.commit : undefined;
  const current = route.view === 'task' ? 'tasks' : route.view;
  return (
    <>
      <header>
        <span class="brand">gitfunc</span>
        <nav>
          {TABS.map((tab) => (
            <a key={tab.view} href={tab.hash} class={tab.view === current ? 'active' : undefined}>
              {tab.label}
            </a>
          ))}
        </nav>
        <span class="header-commit muted">serving {shortCommit(served)}</span>
        <button type="button" class="secondary" onClick={() => session.signOut()}>
          Sign out
        </button>
      </header>
      <main>
        {route.view === 'overview' && <Overview status={status} />}
        {route.view === 'apis' && <Apis status={status} />}
        {route.view === 'cron' && <CronJobs status={status} />}
        {route.view === 'tasks' && <Tasks key={`${route.originId}\0${route.status}`} status={status} originId={route.originId} statusFilter={route.status} />}
        {route.view === 'task' && <TaskRecord id={route.id} />}
      </main>
    </>
  );
}
