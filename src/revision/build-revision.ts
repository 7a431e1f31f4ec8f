import { apiAccessOf } from '../access/api-access.js';
import { type ApiAuthCheck, compileApiAuth } from '../access/api-auth.js';
import { type SecretMask, secretMask } from '../access/secret-mask.js';
import type { Problem } from '../errors.js';
import {
  type ApiEntry,
  checkFunctions,
  type CronJobEntry,
  checkManifest,
  loadManifest,
  loadPackagePins,
  type Manifest,
  MANIFEST_FILE,
  resolveManifest,
} from '../manifest/index.js';
import { installPackages, type PackageOptions } from '../packages/index.js';
import type { ImportProblem, InspectOutcome } from '../runtime/worker-protocol.cjs';
import type { ApiEndpoint, Revision } from './revision.js';
import { isolatableFailures, type ScriptFailure, scriptOfFunction, type UnscheduledCronJob } from './script-failures.js';
import type { FunctionCatalog, FunctionInfo } from '../model/function-info.js';
import type { RevisionRef } from '../model/revision-ref.js';
import { cronJobSpecs } from './cron-job-specs.js';
import { ConcurrencyLimit } from '../model/concurrency-limit.js';

/** Default call timeouts in seconds (CONTRACT section 2). */
export const DEFAULT_SYNC_TIMEOUT_SECONDS = 35;
export const DEFAULT_ASYNC_TIMEOUT_SECONDS = 3600;

/** Imports a revision's scripts under a time limit (see ImportChecker). */
export interface ScriptInspector {
  inspect(revision: RevisionRef, deadlineMs: number): Promise<InspectOutcome>;
}

export interface BuildOptions {
  inspector: ScriptInspector;
  envAllow: readonly string[];
  processEnv: NodeJS.ProcessEnv;
  /** `check` turns unset secrets into warnings: a team's CI has none. */
  mode: 'serve' | 'check';
  /** Sync calls never wait longer than this (DFF caps its wait too). */
  syncTimeoutMaxSeconds: number;
  /** Time allowed to import every script. */
  importSeconds: number;
  /** Where pinned packages' wheels come from and where they are installed. */
  packages: PackageOptions;
}

export interface BuildResult {
  /** Present only when no problem is an error. */
  revision?: Revision;
  problems: Problem[];
}

function hasErrors(problems: Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/** The manifest's problems first, then those of other files, each file in line order. */
function sorted(problems: Problem[]): Problem[] {
  const rank = (file: string): number => (file === MANIFEST_FILE ? 0 : 1);
  return [...problems].sort((a, b) => rank(a.file) - rank(b.file) || a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}

function endpoints(
  entries: ApiEntry[],
  kind: 'sync' | 'async',
  catalog: FunctionCatalog,
  auths: ReadonlyMap<string, ApiAuthCheck>,
  defaultSeconds: number,
  maxSeconds: number,
  failures: ReadonlyMap<string, ScriptFailure>,
): Map<string, ApiEndpoint> {
  const map = new Map<string, ApiEndpoint>();
  for (const entry of entries) {
    const info = catalog.get(entry.func);
    const declared = entry.timeout ?? info?.timeout ?? defaultSeconds;
    // A caller waiting less than the run may take (api_timeout): the wait is capped, not the run.
    const waitSeconds = kind === 'sync' && info?.apiTimeout !== undefined ? Math.min(info.apiTimeout, maxSeconds) : undefined;
    const detached = waitSeconds !== undefined && waitSeconds < declared;
    const endpoint: ApiEndpoint = {
      id: entry.id,
      funcId: entry.func,
      kwargs: entry.kwargs,
      timeoutSeconds: detached ? declared : Math.min(declared, maxSeconds),
      usesHttpRequest: info?.usesHttpRequest ?? true,
    };
    if (entry.title !== undefined) endpoint.title = entry.title;
    if (entry.description !== undefined) endpoint.description = entry.description;
    if (detached) endpoint.waitSeconds = waitSeconds;
    if (info?.keywordParameters !== undefined) endpoint.keywordParameters = info.keywordParameters;
    if (info?.cacheResult !== undefined && info.cacheResult > 0) endpoint.cacheResultSeconds = info.cacheResult;
    const access = apiAccessOf(entry, kind, auths);
    if (access !== undefined) endpoint.access = access;
    // Async tasks are already bounded by the background lane (workers - 1 at once).
    if (entry.maxConcurrency !== undefined && kind === 'sync') endpoint.concurrency = new ConcurrencyLimit(entry.maxConcurrency);
    const failure = failures.get(scriptOfFunction(entry.func));
    if (failure !== undefined) endpoint.scriptFailure = failure;
    map.set(entry.id, endpoint);
  }
  return map;
}

/** `problems` with secret values masked: an import error may quote one, and problems are logged. */
function masked(problems: Problem[], mask: SecretMask | undefined): Problem[] {
  return mask === undefined ? problems : problems.map((p) => ({ ...p, message: mask(p.message) }));
}

/** Script ids (`demo__basic`) whose import failed. */
function failedScripts(importProblems: readonly ImportProblem[]): Set<string> {
  return new Set(importProblems.flatMap((p) => (p.script === undefined ? [] : [p.script])));
}

/**
 * The manifest without entries whose script failed to import: their functions are unknown,
 * and the import error already says why (under `scriptErrors: isolate`, they answer 503.3).
 */
function withoutScripts(manifest: Manifest, failed: ReadonlySet<string>): Manifest {
  if (failed.size === 0) return manifest;
  const keep = (entry: { func: string }): boolean => !failed.has(scriptOfFunction(entry.func));
  return {
    ...manifest,
    syncAPIs: manifest.syncAPIs.filter(keep),
    asyncAPIs: manifest.asyncAPIs.filter(keep),
    cronJobs: manifest.cronJobs.filter(keep),
  };
}

/**
 * The import check's problems. Left-out scripts (`isolated`) are warnings to a server, which
 * serves the rest; `gitfunc check` keeps them errors, so a CI check still fails on them.
 */
function importProblems(inspected: readonly ImportProblem[], isolated: boolean, mode: BuildOptions['mode']): Problem[] {
  if (!isolated) return inspected.map(({ file, line, col, message }) => ({ file, line, col, message, severity: 'error' }));
  const note = mode === 'check' ? 'a server would leave this script out and serve the rest' : 'this script is left out, its APIs answer 503.3';
  return inspected.map(({ file, line, col, message }) => ({
    file,
    line,
    col,
    message: `${message} (scriptErrors: isolate: ${note})`,
    severity: mode === 'check' ? 'error' : 'warning',
  }));
}

/** The scripts left out, their messages masked: 503.3 answers and the status page show them. */
function maskedFailures(failures: ReadonlyMap<string, ScriptFailure> | undefined, mask: SecretMask | undefined): Map<string, ScriptFailure> {
  const masked = new Map<string, ScriptFailure>();
  for (const [script, failure] of failures ?? []) masked.set(script, mask === undefined ? failure : { ...failure, message: mask(failure.message) });
  return masked;
}

/** The enabled cron jobs of `entries` whose script failed to import: they do not fire. */
function unscheduledCronJobs(entries: readonly CronJobEntry[], failures: ReadonlyMap<string, ScriptFailure>): UnscheduledCronJob[] {
  const jobs: UnscheduledCronJob[] = [];
  for (const entry of entries) {
    const failure = failures.get(scriptOfFunction(entry.func));
    if (failure !== undefined && !entry.disabled) jobs.push({ id: entry.id, funcId: entry.func, failure });
  }
  return jobs;
}

/**
 * Turns a fetched commit directory into a servable revision: manifest parsed and checked,
 * env resolved, every script imported in a worker, every named function verified.
 */
export async function buildRevision(commit: string, dir: string, options: BuildOptions): Promise<BuildResult> {
  const loaded = await loadManifest(dir);
  const manifest = loaded.manifest;
  if (manifest === undefined) return { problems: loaded.problems };

  const resolved = resolveManifest(manifest, [...options.envAllow], options.processEnv, options.mode);
  const mask = secretMask(resolved.secrets);
  const problems = [...loaded.problems, ...checkManifest(manifest), ...resolved.problems];

  // Packages first: a script importing a package that failed would only repeat the error.
  const pins = await loadPackagePins(manifest, dir);
  problems.push(...pins.problems);
  if (hasErrors(pins.problems)) return { problems: masked(sorted(problems), mask) };
  const installed = await installPackages(pins.pins, dir, options.packages);
  problems.push(...installed.problems);
  if (hasErrors(installed.problems)) return { problems: masked(sorted(problems), mask) };

  const ref: RevisionRef = { id: commit, dir, env: resolved.env };
  if (installed.siteDir !== undefined) ref.packagesDir = installed.siteDir;
  // Workers learn each connector's type only: its settings stay in the server.
  if (resolved.connectors.length > 0) ref.connectors = Object.fromEntries(resolved.connectors.map((c) => [c.id, c.type]));
  const inspected = await options.inspector.inspect(ref, options.importSeconds * 1000);
  // Under `scriptErrors: isolate`, scripts that failed to import are left out (when they can be).
  const isolated = manifest.scriptErrors === 'isolate' ? isolatableFailures(inspected) : undefined;
  problems.push(...importProblems(inspected.problems, isolated !== undefined, options.mode));
  const failures = maskedFailures(isolated, mask);
  for (const warning of inspected.warnings ?? []) problems.push({ ...warning, severity: 'warning' });

  // A script that raised may have registered some functions before it did: none is served.
  const served = inspected.catalog.filter((info: FunctionInfo) => !failures.has(scriptOfFunction(info.id)));
  const catalog: FunctionCatalog = new Map(served.map((info) => [info.id, info]));
  // An import stopped by the time limit left later scripts unread: their functions are unknown.
  if (!inspected.interrupted) {
    problems.push(
      ...checkFunctions(
        withoutScripts(manifest, failedScripts(inspected.problems)),
        catalog,
        new Set(inspected.scriptIds),
        new Set(inspected.undecorated),
      ),
    );
  }
  if (hasErrors(problems)) return { problems: masked(problems, mask) };

  // A function auth runs while its caller waits: the sync limits apply to it.
  const authTimeout = (funcId: string): number =>
    Math.min(catalog.get(funcId)?.timeout ?? DEFAULT_SYNC_TIMEOUT_SECONDS, options.syncTimeoutMaxSeconds);
  const auths = new Map(resolved.apiAuths.map((auth) => [auth.id, compileApiAuth(auth, authTimeout)]));
  const revision: Revision = {
    commit,
    dir,
    ref,
    catalog,
    syncApis: endpoints(manifest.syncAPIs, 'sync', catalog, auths, DEFAULT_SYNC_TIMEOUT_SECONDS, options.syncTimeoutMaxSeconds, failures),
    asyncApis: endpoints(manifest.asyncAPIs, 'async', catalog, auths, DEFAULT_ASYNC_TIMEOUT_SECONDS, DEFAULT_ASYNC_TIMEOUT_SECONDS, failures),
    cronJobs: cronJobSpecs(withoutScripts(manifest, new Set(failures.keys())).cronJobs, catalog, DEFAULT_ASYNC_TIMEOUT_SECONDS),
    scriptFailures: failures,
    unscheduledCronJobs: unscheduledCronJobs(manifest.cronJobs, failures),
    connectors: resolved.connectors,
    warnings: masked(problems, mask),
    builtAt: Date.now(),
  };
  if (mask !== undefined) revision.mask = mask;
  return { revision, problems: revision.warnings };
}
