/**
 * Checks of a structurally valid manifest that a JSON Schema cannot express: unique ids, auth
 * references, cron expressions, time zones, and secrets written into git.
 */
import { Cron } from 'croner';
import type { Problem } from '../errors.js';
import { MANIFEST_FILE, type Manifest, type Position } from './types.js';

/** A `${NAME}` reference and nothing else: how a secret should appear in the manifest. */
const WHOLE_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** Every semantic problem of `manifest`, in manifest order. */
export function checkManifest(manifest: Manifest): Problem[] {
  const problems: Problem[] = [];
  const error = (at: Position, message: string): void => {
    problems.push({ file: MANIFEST_FILE, ...at, severity: 'error', message });
  };

  checkUniqueIds('apiAuths', 'apiAuth', manifest.apiAuths, error);
  checkUniqueIds('syncAPIs', 'syncAPI', manifest.syncAPIs, error);
  checkUniqueIds('asyncAPIs', 'asyncAPI', manifest.asyncAPIs, error);
  checkUniqueIds('cronJobs', 'cronJob', manifest.cronJobs, error);
  checkUniqueIds('connectors', 'connector', manifest.connectors, error);

  const authIds = manifest.apiAuths.map((a) => a.id);
  for (const list of ['syncAPIs', 'asyncAPIs'] as const) {
    manifest[list].forEach((api, i) => {
      if (api.auth === undefined || authIds.includes(api.auth)) return;
      const known = authIds.length > 0 ? `known: ${authIds.join(', ')}` : 'apiAuths is empty';
      error(api.positions.fields.auth ?? api.positions.entry, `${list}[${i}].auth: no apiAuth with id '${api.auth}' (${known})`);
    });
  }

  manifest.cronJobs.forEach((job, i) => {
    const timezoneProblem = timezoneError(job.timezone);
    if (timezoneProblem) error(job.positions.fields.timezone ?? job.positions.entry, `cronJobs[${i}].timezone: ${timezoneProblem}`);
    if (job.cron === undefined) return;
    const cronProblem = cronExpressionError(job.cron, timezoneProblem ? undefined : job.timezone);
    if (cronProblem) error(job.positions.fields.cron ?? job.positions.entry, `cronJobs[${i}].cron: ${cronProblem}`);
  });

  manifest.apiAuths.forEach((auth, i) => {
    if (auth.type === 'func') return;
    const secrets =
      auth.type === 'fixedField'
        ? auth.fields.map((f, j) => ({ label: `apiAuths[${i}].fields[${j}].value`, value: f.value, at: f.position }))
        : auth.users.map((u, j) => ({ label: `apiAuths[${i}].users[${j}].password`, value: u.password, at: u.position }));
    for (const secret of secrets) {
      if (WHOLE_REFERENCE.test(secret.value)) continue;
      problems.push({
        file: MANIFEST_FILE,
        ...secret.at,
        severity: 'warning',
        message: `${secret.label}: literal secret in git: use \${ENV_NAME}`,
      });
    }
  });

  manifest.connectors.forEach((connector, i) => {
    for (const field of CONNECTOR_SECRET_FIELDS) {
      const value = connector.config[field];
      if (typeof value !== 'string' || value === '' || WHOLE_REFERENCE.test(value)) continue;
      problems.push({
        file: MANIFEST_FILE,
        ...(connector.configPositions[field] ?? connector.positions.entry),
        severity: 'warning',
        message: `connectors[${i}].config.${field}: literal secret in git: use \${ENV_NAME}`,
      });
    }
  });

  return problems.sort((a, b) => a.line - b.line || a.col - b.col);
}

/** Connector config fields that hold a secret. */
const CONNECTOR_SECRET_FIELDS = ['password', 'token'] as const;

function checkUniqueIds(
  list: string,
  kind: string,
  entries: readonly { id: string; positions: { id: Position } }[],
  error: (at: Position, message: string) => void,
): void {
  const first = new Map<string, Position>();
  entries.forEach((entry, i) => {
    const earlier = first.get(entry.id);
    if (earlier) {
      error(entry.positions.id, `${list}[${i}].id: duplicate ${kind} id '${entry.id}' (first defined at line ${earlier.line})`);
    } else {
      first.set(entry.id, entry.positions.id);
    }
  });
}

/**
 * Why `expr` is not a usable cron expression, or undefined when it is: 5 fields (minute hour day
 * month weekday) or 6 with leading seconds, as croner reads them.
 */
export function cronExpressionError(expr: string, timezone?: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return `'${expr}' must have 5 fields (minute hour day month weekday), or 6 with leading seconds`;
  }
  try {
    new Cron(expr, { paused: true, ...(timezone ? { timezone } : {}) });
    return undefined;
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^CronPattern:\s*/, '') : String(err);
    return `'${expr}' is not a valid cron expression: ${reason}`;
  }
}

/** Why `timezone` is not an IANA time zone this Node knows, or undefined when it is. */
export function timezoneError(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: timezone });
    return undefined;
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return `unknown time zone '${timezone}' (use an IANA name such as Europe/Berlin or UTC)`;
  }
}
