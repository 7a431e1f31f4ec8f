// Small pieces shared by the views.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { adminRequest, type Answer } from './api.js';
import type { Problem } from './types.js';

/** Renders `ok` with the data of a polled answer, or says why there is none. */
export function Loaded<T>(props: { answer: Answer<T> | undefined; what: string; children: (data: T) => ComponentChildren }) {
  const { answer, what } = props;
  if (answer === undefined) return <p class="muted">Loading {what}…</p>;
  if (answer.state === 'unavailable') return <p class="muted unavailable">{what}: not available on this server.</p>;
  if (answer.state === 'error') return <p class="error-text">{what}: {answer.message}</p>;
  if (answer.state === 'unauthorized') return <p class="error-text">{answer.message}</p>;
  return <>{props.children(answer.data)}</>;
}

export function StatusBadge(props: { status: string | null | undefined }) {
  const status = props.status ?? 'none';
  return <span class={`badge badge-${status}`}>{status}</span>;
}

/** `file:line:col message`, the form `gitfunc check` prints. */
export function ProblemLine(props: { problem: Problem }) {
  const { file, line, col, message } = props.problem;
  return (
    <li class="problem">
      <code class="position">{`${file}:${line}:${col}`}</code> {message}
    </li>
  );
}

/**
 * A button for an admin action (POST `path`): disabled while it runs, then shows what the
 * server said; `done` refreshes the views it changed.
 */
export function ActionButton(props: { label: string; path: string; body?: unknown; confirm?: string; done(): void; class?: string }) {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const run = async (): Promise<void> => {
    if (props.confirm !== undefined && !window.confirm(props.confirm)) return;
    setBusy(true);
    setOutcome(null);
    const answer = await adminRequest<unknown>(props.path, { method: 'POST', body: props.body ?? {} });
    setBusy(false);
    if (answer.state === 'ok') props.done();
    else setOutcome(answer.state === 'unavailable' ? 'not available on this server' : answer.message);
  };
  return (
    <span class="action">
      <button type="button" class={props.class ?? 'secondary'} disabled={busy} onClick={() => void run()}>
        {busy ? `${props.label}…` : props.label}
      </button>
      {outcome !== null && <span class="error-text action-error">{outcome}</span>}
    </span>
  );
}
