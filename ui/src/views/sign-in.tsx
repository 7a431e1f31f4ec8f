import { useState } from 'preact/hooks';
import { adminRequest } from '../api.js';

/** Asks for the admin token and checks it against GET /api/v1/status before keeping it. */
export function SignIn(props: { notice: string | null; signedIn(token: string): void }) {
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string | null>(props.notice);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    const answer = await adminRequest<unknown>('/api/v1/status', { withToken: value });
    setBusy(false);
    if (answer.state === 'ok') props.signedIn(value);
    else if (answer.state === 'unauthorized') setProblem(`Wrong admin token: ${answer.message}`);
    else setProblem(answer.state === 'error' ? answer.message : 'This server has no status endpoint');
  };
  return (
    <main class="sign-in">
      <h1>gitfunc</h1>
      <form onSubmit={(event) => void submit(event)}>
        <label for="token">Admin token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="current-password"
          value={value}
          onInput={(event) => setValue((event.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={busy || value === ''}>
          Sign in
        </button>
        {problem !== null && (
          <p class="error-text" role="alert">
            {problem}
          </p>
        )}
      </form>
      <p class="muted">The token is the server's GITFUNC_ADMIN_TOKEN. It is kept in this tab only.</p>
    </main>
  );
}
