import type { Problem } from '../errors.js';
import {
  type ApiEntry,
  checkFunctions,
  checkManifest,
  loadManifest,
  type Manifest,
  resolveEnv,
} from '../manifest/index.js';
import type { FunctionCatalog, FunctionInfo } from '../runtime/function-info.js';
import type { InspectOutcome, RevisionRef } from '../runtime/worker-protocol.cjs';
import { cronJobSpecs } from '../schedule/cron-job-spec.js';
import type { ApiEndpoint, Revision } from './revision.js';

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
}

export interface BuildResult {
  /** Present only when no problem is an error. */
  revision?: Revision;
  problems: Problem[];
}

function hasErrors(problems: Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

function endpoints(
  entries: ApiEntry[],
  catalog: FunctionCatalog,
  defaultSeconds: number,
  maxSeconds: number,
): Map<string, ApiEndpoint> {
  const map = new Map<string, ApiEndpoint>();
  for (const entry of entries) {
    const info = catalog.get(entry.func);
    const declared = entry.timeout ?? info?.timeout ?? defaultSeconds;
    map.set(entry.id, {
      id: entry.id,
      funcId: entry.func,
      kwargs: entry.kwargs,
      timeoutSeconds: Math.min(declared, maxSeconds),
      usesHttpRequest: info?.usesHttpRequest ?? true,
    });
  }
  return map;
}

/** Script ids (`demo__basic`) of the files whose import failed. */
function failedScripts(importProblems: readonly { file: string }[]): Set<string> {
  return new Set(importProblems.map((p) => p.file.replace(/\.py$/, '').replace('/', '__')));
}

/**
 * The manifest without entries whose script failed to import: their functions are unknown,
 * and the import error already says why.
 */
function withoutScripts(manifest: Manifest, failed: Set<string>): Manifest {
  if (failed.size === 0) return manifest;
  const keep = (entry: { func: string }): boolean => !failed.has(entry.func.split('.', 1)[0]!);
  return {
    ...manifest,
    syncAPIs: manifest.syncAPIs.filter(keep),
    asyncAPIs: manifest.asyncAPIs.filter(keep),
    cronJobs: manifest.cronJobs.filter(keep),
  };
}

/**
 * Turns a fetched commit directory into a servable revision: manifest parsed and checked,
 * env resolved, every script imported in a worker, every named function verified.
 */
export async function buildRevision(commit: string, dir: string, options: BuildOptions): Promise<BuildResult> {
  const loaded = await loadManifest(dir);
  const manifest = loaded.manifest;
  if (manifest === undefined) return { problems: loaded.problems };

  const env = resolveEnv(manifest.env, manifest.envPositions, [...options.envAllow], options.processEnv, options.mode);
  const problems = [...loaded.problems, ...checkManifest(manifest), ...env.problems];

  const ref = { id: commit, dir, env: env.values };
  const inspected = await options.inspector.inspect(ref, options.importSeconds * 1000);
  for (const problem of inspected.problems) problems.push({ ...problem, severity: 'error' });

  const catalog: FunctionCatalog = new Map(inspected.catalog.map((info: FunctionInfo) => [info.id, info]));
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
  if (hasErrors(problems)) return { problems };

  const revision: Revision = {
    commit,
    dir,
    ref,
    catalog,
    syncApis: endpoints(manifest.syncAPIs, catalog, DEFAULT_SYNC_TIMEOUT_SECONDS, options.syncTimeoutMaxSeconds),
    asyncApis: endpoints(manifest.asyncAPIs, catalog, DEFAULT_ASYNC_TIMEOUT_SECONDS, DEFAULT_ASYNC_TIMEOUT_SECONDS),
    cronJobs: cronJobSpecs(manifest.cronJobs, catalog, DEFAULT_ASYNC_TIMEOUT_SECONDS),
    warnings: problems,
    secrets: env.secrets,
    builtAt: Date.now(),
  };
  return { revision, problems };
}
