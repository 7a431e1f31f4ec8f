/**
 * What a script's `@DFF.API(...)` decorator declared for one function, as reported by the
 * worker after importing the revision's scripts. Keys follow CONTRACT section 2, normalised
 * (aliases already folded: `api_timeout` alone -> timeout, `fixed_crontab` -> fixedCronExpr, ...).
 */
export interface FunctionInfo {
  /** `<set>__<script>.<func>`, e.g. `demo__basic.hello_world`. */
  id: string;
  title: string;
  category: string;
  tags: string[];
  /** Seconds, when the decorator set one. */
  timeout?: number;
  /** `api_timeout` given with `timeout`: seconds a sync caller waits while the run may go on to `timeout`. */
  apiTimeout?: number;
  /** Seconds. */
  cacheResult?: number;
  fixedCronExpr?: string;
  /** Seconds after each cron fire, one extra run per value. */
  delayedCronJob?: number[];
  isHidden: boolean;
  /** The function's script mentions `_DFF_HTTP_REQUEST`, so calls must send the request. */
  usesHttpRequest: boolean;
  /**
   * Parameter names the function can take by keyword (from `inspect.signature`); absent when it
   * takes `**kwargs` (any name) or its signature cannot be read.
   */
  keywordParameters?: string[];
  /**
   * Each parameter a caller can pass by keyword, for the API docs (OpenAPI); absent when its
   * signature cannot be read.
   */
  parameters?: ParameterInfo[];
  /** Where the function is defined, for error positions. */
  file: string;
  line: number;
}

/** One keyword parameter of a function, as `inspect.signature` shows it. */
export interface ParameterInfo {
  name: string;
  /** It has no default. */
  required: boolean;
  /** The default, when JSON can carry it. */
  default?: unknown;
  /** The default's `repr`, when JSON cannot carry it (a set, an object). */
  defaultText?: string;
  /** The annotation as written (`int`, `list[str]`, `int | None`). */
  annotation?: string;
}

/** The functions of one revision, by function id. */
export type FunctionCatalog = ReadonlyMap<string, FunctionInfo>;
