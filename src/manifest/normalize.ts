/**
 * Builds the typed `Manifest` from a schema-valid JS value: defaults filled in, absent lists
 * `[]`, and the position of every id, func and field remembered.
 */
import type { Problem } from '../errors.js';
import {
  MANIFEST_FILE,
  type ApiAuth,
  type ApiEntry,
  CONNECTOR_DEFAULT_PORTS,
  type ConnectorEntry,
  type ConnectorType,
  type CronJobEntry,
  DEFAULT_POOL_SIZE,
  type EntryPositions,
  type Kwargs,
  type Manifest,
  type Misfire,
  type PackagePin,
  type PackagesSpec,
  type Position,
  type ScriptErrorPolicy,
  type Throttling,
} from './types.js';
import { normalizedName } from '../model/package-pin.js';
import { parsePin } from './package-pins.js';
import type { PathSegment, YamlLocator } from './yaml-positions.js';

/** The JS shape manifest.schema.json guarantees (before defaults). */
interface RawApi {
  id: string;
  func: string;
  title?: string;
  description?: string;
  kwargs?: Kwargs;
  auth?: string;
  timeout?: number;
  throttling?: Throttling;
  disabled?: boolean;
  expireTime?: string | number;
  maxConcurrency?: number;
}

interface RawCronJob {
  id: string;
  func: string;
  title?: string;
  description?: string;
  cron?: string;
  timezone?: string;
  kwargs?: Kwargs;
  misfire?: Misfire;
  disabled?: boolean;
}

type RawApiAuth =
  | { id: string; type: 'fixedField'; fields: { location: 'header' | 'query' | 'body'; name: string; value: string }[] }
  | { id: string; type: 'httpBasic' | 'httpDigest'; users: { username: string; password: string }[] }
  | { id: string; type: 'func'; func: string };

interface RawConnector {
  id: string;
  type: ConnectorType;
  config: Record<string, unknown>;
}

interface RawManifest {
  version: 1;
  env?: Record<string, string>;
  apiAuths?: RawApiAuth[];
  syncAPIs?: RawApi[];
  asyncAPIs?: RawApi[];
  cronJobs?: RawCronJob[];
  connectors?: RawConnector[];
  packages?: string[] | string;
  scriptErrors?: ScriptErrorPolicy;
}

/** The typed manifest of a schema-valid value, and problems only a parse can find (dates). */
export function normalizeManifest(data: unknown, locator: YamlLocator): { manifest: Manifest; problems: Problem[] } {
  // The schema has checked this shape; the cast states what it guarantees.
  const raw = data as RawManifest;
  const problems: Problem[] = [];
  const env = { ...(raw.env ?? {}) };
  const envPositions: Record<string, Position> = {};
  for (const name of Object.keys(env)) envPositions[name] = locator.value(['env', name]);

  const apis = (list: 'syncAPIs' | 'asyncAPIs'): ApiEntry[] =>
    (raw[list] ?? []).map((api, i) => normalizeApi(api, [list, i], locator, problems));

  const manifest: Manifest = {
    version: 1,
    env,
    envPositions,
    apiAuths: (raw.apiAuths ?? []).map((auth, i) => normalizeAuth(auth, ['apiAuths', i], locator)),
    syncAPIs: apis('syncAPIs'),
    asyncAPIs: apis('asyncAPIs'),
    cronJobs: (raw.cronJobs ?? []).map((job, i) => normalizeCronJob(job, ['cronJobs', i], locator)),
    connectors: (raw.connectors ?? []).map((connector, i) => normalizeConnector(connector, ['connectors', i], locator)),
    packages: normalizePackages(raw.packages, locator, problems),
    scriptErrors: raw.scriptErrors ?? 'failRevision',
  };
  return { manifest, problems };
}

function entryPositions(entry: object, path: PathSegment[], locator: YamlLocator): EntryPositions {
  const fields: Partial<Record<string, Position>> = {};
  for (const field of Object.keys(entry)) fields[field] = locator.value([...path, field]);
  return { entry: locator.value(path), id: locator.value([...path, 'id']), fields };
}

/** Where each key of a `kwargs` mapping was written. */
function kwargKeyPositions(kwargs: object, path: PathSegment[], locator: YamlLocator): Record<string, Position> {
  return Object.fromEntries(Object.keys(kwargs).map((key) => [key, locator.key(path, key)]));
}

function normalizeApi(api: RawApi, path: PathSegment[], locator: YamlLocator, problems: Problem[]): ApiEntry {
  const positions = entryPositions(api, path, locator);
  const entry: ApiEntry = {
    id: api.id,
    func: api.func,
    disabled: api.disabled ?? false,
    position: locator.value([...path, 'func']),
    positions,
  };
  if (api.title !== undefined) entry.title = api.title;
  if (api.description !== undefined) entry.description = api.description;
  if (api.kwargs !== undefined) {
    entry.kwargs = api.kwargs;
    entry.kwargsPositions = kwargKeyPositions(api.kwargs, [...path, 'kwargs'], locator);
  }
  if (api.auth !== undefined) entry.auth = api.auth;
  if (api.timeout !== undefined) entry.timeout = api.timeout;
  if (api.throttling !== undefined) entry.throttling = { ...api.throttling };
  if (api.maxConcurrency !== undefined) entry.maxConcurrency = api.maxConcurrency;
  if (api.expireTime !== undefined) {
    const seconds = expireSeconds(api.expireTime);
    if (seconds === undefined) {
      const at = positions.fields.expireTime ?? positions.entry;
      problems.push({
        file: MANIFEST_FILE,
        ...at,
        severity: 'error',
        message: `${path[0]}[${path[1]}].expireTime '${String(api.expireTime)}' is not a real date-time`,
      });
    } else {
      entry.expireTime = seconds;
    }
  }
  return entry;
}

/** Epoch seconds of an expireTime (date-time text or epoch seconds), undefined if not a date. */
function expireSeconds(value: string | number): number | undefined {
  if (typeof value === 'number') return value;
  const iso = value.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls 2030-02-30 over to March; a date that does not round-trip is not real.
  const [, y, m, d] = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso) ?? [];
  const day = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  if (day.getUTCFullYear() !== Number(y) || day.getUTCMonth() !== Number(m) - 1 || day.getUTCDate() !== Number(d)) {
    return undefined;
  }
  return ms / 1000;
}

function normalizeCronJob(job: RawCronJob, path: PathSegment[], locator: YamlLocator): CronJobEntry {
  const entry: CronJobEntry = {
    id: job.id,
    func: job.func,
    timezone: job.timezone ?? 'UTC',
    kwargs: job.kwargs ?? {},
    misfire: job.misfire ?? 'skip',
    disabled: job.disabled ?? false,
    position: locator.value([...path, 'func']),
    positions: entryPositions(job, path, locator),
    kwargsPositions: kwargKeyPositions(job.kwargs ?? {}, [...path, 'kwargs'], locator),
  };
  if (job.title !== undefined) entry.title = job.title;
  if (job.description !== undefined) entry.description = job.description;
  if (job.cron !== undefined) entry.cron = job.cron;
  return entry;
}

function normalizeAuth(auth: RawApiAuth, path: PathSegment[], locator: YamlLocator): ApiAuth {
  const positions = entryPositions(auth, path, locator);
  const position = positions.entry;
  if (auth.type === 'fixedField') {
    return {
      id: auth.id,
      type: 'fixedField',
      fields: auth.fields.map((f, i) => ({ ...f, position: locator.value([...path, 'fields', i, 'value']) })),
      position,
      positions,
    };
  }
  if (auth.type === 'func') {
    return { id: auth.id, type: 'func', func: auth.func, position, positions, funcPosition: locator.value([...path, 'func']) };
  }
  return {
    id: auth.id,
    type: auth.type,
    users: auth.users.map((u, i) => ({ ...u, position: locator.value([...path, 'users', i, 'password']) })),
    position,
    positions,
  };
}

function normalizeConnector(connector: RawConnector, path: PathSegment[], locator: YamlLocator): ConnectorEntry {
  const positions = entryPositions(connector, path, locator);
  const configPositions: Partial<Record<string, Position>> = {};
  for (const field of Object.keys(connector.config)) configPositions[field] = locator.value([...path, 'config', field]);
  const config: Record<string, unknown> = { port: CONNECTOR_DEFAULT_PORTS[connector.type], ...connector.config };
  if (connector.type === 'mysql' || connector.type === 'postgresql') config.poolSize ??= DEFAULT_POOL_SIZE;
  return { id: connector.id, type: connector.type, config, position: positions.entry, positions, configPositions };
}

/** The pins of a `packages` list (each bad one a problem at its line), or the requirements file named. */
function normalizePackages(packages: string[] | string | undefined, locator: YamlLocator, problems: Problem[]): PackagesSpec {
  if (typeof packages === 'string') return { kind: 'file', path: packages, position: locator.value(['packages']) };
  const pins: PackagePin[] = [];
  const seen = new Map<string, number>();
  (packages ?? []).forEach((text, i) => {
    const at = locator.value(['packages', i]);
    const error = (message: string): void => {
      problems.push({ file: MANIFEST_FILE, ...at, severity: 'error', message: `packages[${i}]: ${message}` });
    };
    const pin = parsePin(text);
    if ('error' in pin) return error(pin.error);
    const key = normalizedName(pin.name);
    const first = seen.get(key);
    if (first !== undefined) return error(`'${pin.name}' is pinned twice (first at line ${first})`);
    seen.set(key, at.line);
    pins.push({ ...pin, file: MANIFEST_FILE, ...at });
  });
  return { kind: 'pins', pins };
}
