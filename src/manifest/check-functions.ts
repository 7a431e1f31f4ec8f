/**
 * Checks that every function the manifest names (APIs, cron jobs, function auths) exists in the
 * revision's scripts and is decorated with `@DFF.API` (CONTRACT section 1: only decorated
 * functions may be named).
 */
import type { Problem } from '../errors.js';
import { cronExpressionError } from './check-manifest.js';
import { closestName } from '../closest-name.js';
import { MANIFEST_FILE, type Manifest, type Position } from './types.js';
import type { FunctionCatalog } from '../model/function-info.js';

/** `demo__basic` -> `demo/basic.py`: where a script id lives in the repository. */
export function scriptPath(scriptId: string): string {
  const split = scriptId.indexOf('__');
  return split < 0 ? `${scriptId}.py` : `${scriptId.slice(0, split)}/${scriptId.slice(split + 2)}.py`;
}

/**
 * Problems for manifest entries whose `func` is missing or undecorated, at the `func` position.
 * `scriptIds` are the revision's scripts (`demo__basic`); `undecorated` optionally names function
 * ids (`demo__basic.helper`) that exist without `@DFF.API`, for a more precise message.
 */
export function checkFunctions(
  manifest: Manifest,
  catalog: FunctionCatalog,
  scriptIds: ReadonlySet<string>,
  undecorated?: ReadonlySet<string>,
): Problem[] {
  const problems: Problem[] = [];
  const error = (at: Position, message: string, file = MANIFEST_FILE): void => {
    problems.push({ file, ...at, severity: 'error', message });
  };
  // A function auth names a function as APIs do: the same rules, at its `func` field.
  const funcAuths = manifest.apiAuths.flatMap((auth) => (auth.type === 'func' ? [{ func: auth.func, position: auth.funcPosition }] : []));
  const entries = [...manifest.syncAPIs, ...manifest.asyncAPIs, ...manifest.cronJobs, ...funcAuths];
  for (const entry of entries) {
    const dot = entry.func.lastIndexOf('.');
    const scriptId = entry.func.slice(0, dot);
    const name = entry.func.slice(dot + 1);
    if (!scriptIds.has(scriptId)) {
      error(entry.position, `script '${scriptId}' not found (expected ${scriptPath(scriptId)})`);
    } else if (catalog.has(entry.func)) {
      continue;
    } else if (undecorated?.has(entry.func)) {
      error(entry.position, `function '${name}' is not decorated with @DFF.API`);
    } else {
      error(entry.position, `function '${name}' not found in script '${scriptId}' (${scriptPath(scriptId)})`);
    }
  }

  // A declared kwarg the function cannot take fails every call: report it at its key.
  for (const entry of [...manifest.syncAPIs, ...manifest.asyncAPIs, ...manifest.cronJobs]) {
    const accepted = catalog.get(entry.func)?.keywordParameters;
    if (accepted === undefined) continue; // unknown function (reported above), or it takes **kwargs
    for (const [key, at] of Object.entries(entry.kwargsPositions ?? {})) {
      if (accepted.includes(key)) continue;
      const suggestion = closestName(key, accepted);
      const hint = suggestion ? ` (did you mean '${suggestion}'?)` : '';
      error(at, `kwarg '${key}' is not a parameter of ${entry.func}${hint}; it takes ${acceptedList(accepted)}`);
    }
  }

  manifest.cronJobs.forEach((job, i) => {
    const info = catalog.get(job.func);
    if (!info) return; // already reported above
    if (info.fixedCronExpr !== undefined) {
      // fixed_cron_expr overrides the job's expression, so it is the one that must be valid.
      const reason = cronExpressionError(info.fixedCronExpr);
      if (reason) error({ line: info.line, col: 1 }, `fixed_cron_expr of ${job.func}: ${reason}`, info.file);
    } else if (job.cron === undefined) {
      error(job.positions.entry, `cronJobs[${i}] has no cron expression: set cron, or fixed_cron_expr in @DFF.API`);
    }
  });
  return problems;
}

/** `a, b` or `no kwargs`, for messages. */
function acceptedList(accepted: readonly string[]): string {
  return accepted.length === 0 ? 'no kwargs' : accepted.map((name) => `'${name}'`).join(', ');
}
