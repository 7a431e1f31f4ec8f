/**
 * The typed, normalised form of `gitfunc.yaml` (CONTRACT section 1). Absent lists are `[]`,
 * defaults are filled in, and every entry remembers where it was written so later checks
 * (scripts, decorators, env) can point at the manifest line.
 */
import type { Misfire } from '../model/cron-job.js';
import type { PackagePin } from '../model/package-pin.js';

export type { Misfire, PackagePin };

/** The manifest's fixed file name, relative to the revision directory. */
export const MANIFEST_FILE = 'gitfunc.yaml';

/** 1-based line and column in `gitfunc.yaml`. */
export interface Position {
  line: number;
  col: number;
}

/** Where the parts of one list entry (API, cron job, API auth) were written. */
export interface EntryPositions {
  /** The entry itself (its first key). */
  entry: Position;
  /** The value of `id`. */
  id: Position;
  /** The value of every other field present, by field name (e.g. `auth`, `cron`, `timezone`). */
  fields: Partial<Record<string, Position>>;
}

/** Keyword arguments: fixed values, or `INPUT_BY_CALLER` for values a caller may give. */
export type Kwargs = Record<string, unknown>;

/** The kwargs value that lets the caller supply a field (CONTRACT section 3). */
export const INPUT_BY_CALLER = 'INPUT_BY_CALLER';

/** Maximum calls of one API per period. */
export interface Throttling {
  bySecond?: number;
  byMinute?: number;
  byHour?: number;
  byDay?: number;
}

/** One entry of `syncAPIs` or `asyncAPIs`. */
export interface ApiEntry {
  id: string;
  /** `<set>__<script>.<func>`. */
  func: string;
  title?: string;
  description?: string;
  /** Absent: the caller may pass any kwargs. Present: only these keys (CONTRACT section 3). */
  kwargs?: Kwargs;
  /** Where each `kwargs` key was written (present with `kwargs`). */
  kwargsPositions?: Record<string, Position>;
  /** The id of an entry in `apiAuths`. */
  auth?: string;
  /** Seconds, 1-3600; overrides the function's own timeout. */
  timeout?: number;
  throttling?: Throttling;
  disabled: boolean;
  /** Epoch seconds after which the API answers 403 (a date-time in the manifest is converted). */
  expireTime?: number;
  maxConcurrency?: number;
  /** Where the `func` value was written, for errors about the function. */
  position: Position;
  positions: EntryPositions;
}

/** One entry of `cronJobs`. */
export interface CronJobEntry {
  id: string;
  func: string;
  title?: string;
  description?: string;
  /** Absent when the function's `fixed_cron_expr` provides it (checked by checkFunctions). */
  cron?: string;
  /** IANA time zone; `UTC` when not given. */
  timezone: string;
  /** `{}` when not given. */
  kwargs: Kwargs;
  /** Where each `kwargs` key was written. */
  kwargsPositions: Record<string, Position>;
  misfire: Misfire;
  disabled: boolean;
  /** Where the `func` value was written. */
  position: Position;
  positions: EntryPositions;
}

/** One field a fixedField auth compares. `value` is as written (`${NAME}` until resolved). */
export interface FixedField {
  location: 'header' | 'query' | 'body';
  name: string;
  value: string;
  /** Where `value` was written. */
  position: Position;
}

/** One user of an httpBasic or httpDigest auth. `password` is as written (`${NAME}` until resolved). */
export interface BasicUser {
  username: string;
  password: string;
  /** Where `password` was written. */
  position: Position;
}

export interface FixedFieldAuth {
  id: string;
  type: 'fixedField';
  fields: FixedField[];
  position: Position;
  positions: EntryPositions;
}

export interface HttpBasicAuth {
  id: string;
  type: 'httpBasic';
  users: BasicUser[];
  position: Position;
  positions: EntryPositions;
}

export interface HttpDigestAuth {
  id: string;
  type: 'httpDigest';
  users: BasicUser[];
  position: Position;
  positions: EntryPositions;
}

/** An auth run by a function of the repository: it gets the request and admits or refuses. */
export interface FuncAuth {
  id: string;
  type: 'func';
  /** `<set>__<script>.<func>`. */
  func: string;
  position: Position;
  positions: EntryPositions;
  /** Where the `func` value was written. */
  funcPosition: Position;
}

/** One entry of `apiAuths`. */
export type ApiAuth = FixedFieldAuth | HttpBasicAuth | HttpDigestAuth | FuncAuth;

/** The services a connector may name (CONTRACT section 12). */
export const CONNECTOR_TYPES = ['mysql', 'postgresql', 'redis', 'datakit', 'dataway'] as const;
export type ConnectorType = (typeof CONNECTOR_TYPES)[number];

/** The port of each connector type when its config gives none. */
export const CONNECTOR_DEFAULT_PORTS: Readonly<Record<ConnectorType, number>> = {
  mysql: 3306,
  postgresql: 5432,
  redis: 6379,
  datakit: 9529,
  dataway: 9528,
};

/** Connections a SQL connector's pool holds at most when `poolSize` is not given. */
export const DEFAULT_POOL_SIZE = 5;

/**
 * One entry of `connectors`. `config` holds the schema's fields for its type with `port` (and
 * a SQL pool's `poolSize`) filled in; its strings are as written (`${NAME}` until resolved).
 */
export interface ConnectorEntry {
  id: string;
  type: ConnectorType;
  config: Record<string, unknown>;
  position: Position;
  positions: EntryPositions;
  /** Where each config value was written, by field name. */
  configPositions: Partial<Record<string, Position>>;
}

/**
 * The manifest's `packages`: pins written in the manifest (read already), or the path of a
 * requirements file in the repository (read by `loadPackagePins`).
 */
export type PackagesSpec = { kind: 'pins'; pins: PackagePin[] } | { kind: 'file'; path: string; position: Position };

/** What a script that fails to import does to its revision (`scriptErrors`). */
export type ScriptErrorPolicy = 'failRevision' | 'isolate';

/** A structurally valid `gitfunc.yaml`. */
export interface Manifest {
  version: 1;
  /** As written: `${NAME}` references are resolved by `resolveEnv`. */
  env: Record<string, string>;
  /** Where each env value was written, by env name. */
  envPositions: Record<string, Position>;
  apiAuths: ApiAuth[];
  syncAPIs: ApiEntry[];
  asyncAPIs: ApiEntry[];
  cronJobs: CronJobEntry[];
  /** `[]` when the manifest has none. */
  connectors: ConnectorEntry[];
  /** `{kind: 'pins', pins: []}` when the manifest has no `packages`. */
  packages: PackagesSpec;
  /** `failRevision` when the manifest has no `scriptErrors`. */
  scriptErrors: ScriptErrorPolicy;
}
