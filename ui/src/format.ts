// How times, durations and commits are shown.

export function shortCommit(commit: string | null | undefined): string {
  if (!commit) return '—';
  return /^[0-9a-f]{40}$/.test(commit) ? commit.slice(0, 10) : commit;
}

/** A time as local date and time, to the second. */
export function when(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '—' : date.toLocaleString(undefined, { hour12: false });
}

export function millis(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value * 10) / 10} ms`;
}

/** A run's duration from its record's start and end, if it has both. */
export function duration(start: number | undefined, end: number | undefined): string {
  return start === undefined || end === undefined ? '—' : millis(end - start);
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
