/**
 * The places a setting can come from (files, GITFUNC_* variables, CLI flags), merged in order,
 * remembering which source set each setting so an error can name it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LineCounter, parseDocument } from 'yaml';
import { GitfuncError } from '../errors.js';

type Kind = 'string' | 'integer' | 'number' | 'list' | 'pathList';

/** A setting an environment variable or flag can set. */
interface Override {
  setting: string;
  kind: Kind;
}

/** GITFUNC_* variables (CONTRACT section 8b). */
export const ENV_SETTINGS: Readonly<Record<string, Override>> = Object.freeze({
  GITFUNC_PORT: { setting: 'port', kind: 'integer' },
  GITFUNC_HOST: { setting: 'host', kind: 'string' },
  GITFUNC_REPO: { setting: 'repo.url', kind: 'string' },
  GITFUNC_REF: { setting: 'repo.ref', kind: 'string' },
  GITFUNC_REPO_PATH: { setting: 'repo.path', kind: 'string' },
  GITFUNC_GIT_TOKEN: { setting: 'repo.token', kind: 'string' },
  GITFUNC_POLL_SECONDS: { setting: 'repo.pollSeconds', kind: 'number' },
  GITFUNC_HISTORY_KEEP: { setting: 'repo.historyKeep', kind: 'integer' },
  GITFUNC_DATA_DIR: { setting: 'dataDir', kind: 'string' },
  GITFUNC_WORKERS: { setting: 'workers', kind: 'integer' },
  GITFUNC_SNAPSHOT_DIR: { setting: 'snapshot.dir', kind: 'string' },
  GITFUNC_ENV_ALLOW: { setting: 'envAllow', kind: 'list' },
  GITFUNC_ADMIN_TOKEN: { setting: 'adminToken', kind: 'string' },
  GITFUNC_WEBHOOK_SECRET: { setting: 'webhookSecret', kind: 'string' },
  GITFUNC_PUSH_TOKEN: { setting: 'pushRemote.token', kind: 'string' },
  GITFUNC_LOG_LEVEL: { setting: 'log.level', kind: 'string' },
  GITFUNC_LOG_FORMAT: { setting: 'log.format', kind: 'string' },
  GITFUNC_SYNC_QUEUE_PER_WORKER: { setting: 'limits.syncQueuePerWorker', kind: 'integer' },
  GITFUNC_ASYNC_QUEUE_MAX: { setting: 'limits.asyncQueueMax', kind: 'integer' },
  GITFUNC_HEADERS_TIMEOUT_SECONDS: { setting: 'limits.headersTimeoutSeconds', kind: 'number' },
  GITFUNC_BODY_READ_SECONDS: { setting: 'limits.bodyReadSeconds', kind: 'number' },
  GITFUNC_CORS_ALLOW_ORIGINS: { setting: 'cors.allowOrigins', kind: 'list' },
  GITFUNC_UPLOAD_FILE_BYTES: { setting: 'limits.uploadFileBytes', kind: 'integer' },
  GITFUNC_UPLOAD_TOTAL_BYTES: { setting: 'limits.uploadTotalBytes', kind: 'integer' },
  GITFUNC_UPLOAD_FILES: { setting: 'limits.uploadFiles', kind: 'integer' },
  GITFUNC_WORKER_MAX_CALLS: { setting: 'limits.workerMaxCalls', kind: 'integer' },
  GITFUNC_WORKER_HEAP_MB: { setting: 'limits.workerHeapMB', kind: 'integer' },
  GITFUNC_SOCKETS_PER_CALL: { setting: 'limits.socketsPerCall', kind: 'integer' },
  GITFUNC_NETWORK_ALLOW: { setting: 'network.allow', kind: 'list' },
  GITFUNC_NETWORK_DENY: { setting: 'network.deny', kind: 'list' },
  GITFUNC_CA_FILE: { setting: 'network.caFile', kind: 'string' },
  GITFUNC_TASKS_KEEP_PER_API: { setting: 'tasks.keepPerApi', kind: 'integer' },
  GITFUNC_TASKS_KEEP_PER_CRON_JOB: { setting: 'tasks.keepPerCronJob', kind: 'integer' },
  GITFUNC_TASKS_KEEP_SECONDS: { setting: 'tasks.keepSeconds', kind: 'integer' },
  GITFUNC_TASKS_MAX_STORED_MB: { setting: 'tasks.maxStoredMB', kind: 'integer' },
  GITFUNC_SHUTDOWN_DRAIN_SECONDS: { setting: 'shutdown.drainSeconds', kind: 'number' },
  GITFUNC_SHUTDOWN_GRACE_SECONDS: { setting: 'shutdown.graceSeconds', kind: 'number' },
  GITFUNC_WHEELHOUSE: { setting: 'packages.wheelhouse', kind: 'pathList' },
  GITFUNC_PACKAGE_INDEX: { setting: 'packages.index', kind: 'string' },
  GITFUNC_PYODIDE_PACKAGES: { setting: 'packages.pyodidePackages', kind: 'string' },
  GITFUNC_REDIS_URL: { setting: 'redis.url', kind: 'string' },
  GITFUNC_REDIS_PREFIX: { setting: 'redis.keyPrefix', kind: 'string' },
  GITFUNC_REPLICA_ID: { setting: 'redis.replicaId', kind: 'string' },
  GITFUNC_ADVERTISED_URL: { setting: 'redis.advertisedUrl', kind: 'string' },
});

/** CLI flags. Secrets have none on purpose: a command line is visible to every local user. */
export const FLAG_SETTINGS: Readonly<Record<string, Override>> = Object.freeze({
  port: { setting: 'port', kind: 'integer' },
  host: { setting: 'host', kind: 'string' },
  repo: { setting: 'repo.url', kind: 'string' },
  ref: { setting: 'repo.ref', kind: 'string' },
  path: { setting: 'repo.path', kind: 'string' },
  'poll-seconds': { setting: 'repo.pollSeconds', kind: 'number' },
  'data-dir': { setting: 'dataDir', kind: 'string' },
  workers: { setting: 'workers', kind: 'integer' },
  'snapshot-dir': { setting: 'snapshot.dir', kind: 'string' },
  'env-allow': { setting: 'envAllow', kind: 'list' },
  'log-level': { setting: 'log.level', kind: 'string' },
  'log-format': { setting: 'log.format', kind: 'string' },
});

/** Settings merged so far, and the source that set each one (by dotted name). */
export interface MergedSettings {
  values: Record<string, unknown>;
  origins: Map<string, string>;
}

export function emptyMerge(): MergedSettings {
  return { values: {}, origins: new Map() };
}

/** Merges `layer` over `into`: mappings merge key by key, anything else (lists too) replaces. */
export function mergeLayer(into: MergedSettings, layer: Record<string, unknown>, source: string, prefix = ''): void {
  let target = into.values;
  for (const part of prefix === '' ? [] : prefix.split('.')) {
    if (!isMapping(target[part])) target[part] = {};
    target = target[part] as Record<string, unknown>;
  }
  for (const [key, value] of Object.entries(layer)) {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (isMapping(value)) {
      mergeLayer(into, value, source, name);
    } else {
      target[key] = value;
      into.origins.set(name, source);
    }
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Reads a YAML settings file; `label` names it in errors. */
export function readSettingsFile(file: string, label: string): Record<string, unknown> {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    throw new GitfuncError('CONFIG_INVALID', `cannot read config file ${label}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      file,
    });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const [error] = doc.errors;
  if (error) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    throw new GitfuncError('CONFIG_INVALID', `config file ${label}:${line}:${col}: ${error.message}`, { file, line, col });
  }
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) return {};
  if (!isMapping(data)) {
    throw new GitfuncError('CONFIG_INVALID', `config file ${label} must be a mapping of settings`, { file });
  }
  return data;
}

/** The settings GITFUNC_* variables set; empty variables count as unset. */
export function envLayer(env: NodeJS.ProcessEnv): { name: string; setting: string; value: unknown }[] {
  const found: { name: string; setting: string; value: unknown }[] = [];
  for (const [name, override] of Object.entries(ENV_SETTINGS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    found.push({ name, setting: override.setting, value: coerce(raw, override.kind) });
  }
  return found;
}

/** Parsed CLI flags: the settings they set, the --config file, and positional arguments. */
export interface ParsedFlags {
  settings: { flag: string; setting: string; value: unknown }[];
  config?: string;
  positionals: string[];
}

/** Parses the flags after the subcommand; an unknown flag is a CONFIG_INVALID error. */
export function parseFlags(argv: readonly string[], allowPositionals: boolean): ParsedFlags {
  const options = Object.fromEntries(
    [...Object.keys(FLAG_SETTINGS), 'config'].map((flag) => [flag, { type: 'string' as const }]),
  );
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals, strict: true });
  } catch (err) {
    throw new GitfuncError('CONFIG_INVALID', flagErrorMessage(err, Object.keys(options)), { argv: [...argv] });
  }
  const settings: ParsedFlags['settings'] = [];
  for (const [flag, override] of Object.entries(FLAG_SETTINGS)) {
    const raw = parsed.values[flag];
    if (typeof raw === 'string') settings.push({ flag: `--${flag}`, setting: override.setting, value: coerce(raw, override.kind) });
  }
  const config = parsed.values.config;
  return { settings, ...(typeof config === 'string' ? { config } : {}), positionals: parsed.positionals };
}

/** node:util's parse errors, reworded for a person and naming the known flags. */
function flagErrorMessage(err: unknown, known: string[]): string {
  const code = (err as NodeJS.ErrnoException).code;
  const message = err instanceof Error ? err.message : String(err);
  const quoted = /'([^']+)'/.exec(message)?.[1];
  const knownList = known.map((f) => `--${f}`).join(', ');
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted ?? message} (known: ${knownList})`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return `option ${(quoted ?? message).replace(/ <value>$/, '')} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${quoted ? `'${quoted}'` : message}`;
    default:
      if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) return message;
      throw err;
  }
}

/**
 * Text from an environment variable or flag as the setting's type. Text that is not a number
 * stays text, so validation reports it as given ("got 'abc'").
 */
function coerce(raw: string, kind: Kind): unknown {
  switch (kind) {
    case 'integer':
      return /^\s*[+-]?\d+\s*$/.test(raw) ? Number(raw) : raw;
    case 'number': {
      // Decimal text only ('0.2', '5', '1e3'): not '', '0x10', 'Infinity' or 'NaN', which Number() would take.
      if (!/^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?\s*$/i.test(raw)) return raw;
      const value = Number(raw);
      return Number.isFinite(value) ? value : raw;
    }
    case 'list':
      return [...new Set(raw.split(',').map((item) => item.trim()))].filter((item) => item !== '');
    case 'pathList':
      // Folders separated as in PATH (':' here), so a path may hold a comma.
      return [...new Set(raw.split(path.delimiter))].filter((item) => item !== '');
    case 'string':
      return raw;
  }
}

/** `{port: 1}` for `port`, `{repo: {url: x}}` for `repo.url`. */
export function nested(setting: string, value: unknown): Record<string, unknown> {
  return setting
    .split('.')
    .reverse()
    .reduce<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}
