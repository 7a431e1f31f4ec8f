import { type ErrorCode, isErrorCode } from './errors/catalog.js';

/**
 * An error as plain data: what `toJSON()` gives and `GitfuncError.fromJSON` takes back. It is all that
 * crosses a worker boundary (structured clone keeps no class, and no own property of an Error).
 */
export interface ErrorJSON {
  code: ErrorCode;
  message: string;
  data: Record<string, unknown>;
}

/**
 * Every error gitfunc raises on purpose: a stable `code` from the catalog (errors/catalog.ts),
 * plain `data`, and `toJSON()`; `GitfuncError.fromJSON` turns that JSON back into the same class.
 */
export class GitfuncError extends Error {
  readonly code: ErrorCode;
  readonly data: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = 'GitfuncError';
    this.code = code;
    this.data = data;
  }

  toJSON(): ErrorJSON {
    return { code: this.code, message: this.message, data: this.data };
  }

  /** The error `toJSON()` described: the same class, code, message and data. */
  static fromJSON(json: ErrorJSON): GitfuncError {
    const revive = REVIVERS.get(json.code);
    return revive === undefined ? new GitfuncError(json.code, json.message, json.data) : revive(json);
  }
}

/** A position in a file of the functions repository, 1-based. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/** One problem found in a functions repository (manifest or script). */
export interface Problem extends SourcePosition {
  severity: 'error' | 'warning';
  message: string;
}

/** `path:line:col message`, the form `gitfunc check` prints and status pages show. */
export function formatProblem(problem: Problem): string {
  const tag = problem.severity === 'warning' ? 'warning: ' : '';
  return `${problem.file}:${problem.line}:${problem.col} ${tag}${problem.message}`;
}

/** A repository revision that must not be served, with every problem found in it. */
export class RevisionInvalidError extends GitfuncError {
  readonly problems: Problem[];

  constructor(problems: Problem[]) {
    const errors = problems.filter((p) => p.severity === 'error');
    super('REVISION_INVALID', `revision has ${errors.length} error(s):\n${errors.map(formatProblem).join('\n')}`, {
      problems,
    });
    this.name = 'RevisionInvalidError';
    this.problems = problems;
  }
}

/** A call's kwargs or options that the API does not accept (CONTRACT section 3). */
export class CallInputError extends GitfuncError {
  static readonly codes = ['CALL_OPTION_INVALID', 'KWARG_UNEXPECTED', 'KWARG_FIXED'] as const;

  constructor(code: (typeof CallInputError.codes)[number], message: string, data: Record<string, unknown> = {}) {
    super(code, message, data);
    this.name = 'CallInputError';
  }
}

/** A worker thread that could not run a task, or died running it. */
export class WorkerError extends GitfuncError {
  static readonly codes = ['WORKER_TASK_FAILED', 'WORKER_INTERPRETER_FAILED', 'WORKER_FAILED', 'WORKER_POOL_CLOSED'] as const;

  constructor(code: (typeof WorkerError.codes)[number], message: string, data: Record<string, unknown> = {}) {
    super(code, message, data);
    this.name = 'WorkerError';
  }
}

/** An import check cut short, or not run: the scripts after the point it stopped were not imported. */
export class ImportCheckError extends GitfuncError {
  static readonly codes = ['IMPORT_CHECK_TIMEOUT', 'IMPORT_CHECK_STUCK', 'IMPORT_CHECK_WORKER_DIED', 'IMPORT_CHECK_CANCELLED'] as const;

  constructor(code: (typeof ImportCheckError.codes)[number], message: string, data: Record<string, unknown> = {}) {
    super(code, message, data);
    this.name = 'ImportCheckError';
  }
}

/** What a Python function raised: its exception line and a traceback of script frames only. */
export class FunctionRaisedError extends GitfuncError {
  declare readonly data: { exception: string; traceback: string };

  constructor(exception: string, traceback: string) {
    super('FUNC_FAILED', `Function raised ${exception}`, { exception, traceback });
    this.name = 'FunctionRaisedError';
  }
}

/**
 * A module gitfunc imports only when a setup uses it (a connector's driver, the Redis client
 * for `redis.url`, the multipart parser, the wheel unzipper) could not be loaded: a broken or
 * partial installation, not a setting.
 */
export class DriverNotLoaded extends GitfuncError {
  constructor(driver: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('DRIVER_NOT_LOADED', `${driver} could not be loaded (is gitfunc fully installed?): ${reason}`, { driver });
    this.name = 'DriverNotLoaded';
    this.cause = cause;
  }
}

/** `load()`'s module (a dynamic import), or DriverNotLoaded naming `driver` when it cannot be loaded. */
export async function loadDriver<M>(driver: string, load: () => Promise<M>): Promise<M> {
  try {
    return await load();
  } catch (error) {
    throw new DriverNotLoaded(driver, error);
  }
}

type Reviver = (json: ErrorJSON) => GitfuncError;

/** The class each code revives as; a code not listed revives as a plain GitfuncError. */
const REVIVERS = new Map<ErrorCode, Reviver>([
  ['REVISION_INVALID', (json) => new RevisionInvalidError((json.data.problems ?? []) as Problem[])],
  ['FUNC_FAILED', (json) => new FunctionRaisedError(String(json.data.exception), String(json.data.traceback))],
  ...CallInputError.codes.map((code): [ErrorCode, Reviver] => [code, (json) => new CallInputError(code, json.message, json.data)]),
  ...WorkerError.codes.map((code): [ErrorCode, Reviver] => [code, (json) => new WorkerError(code, json.message, json.data)]),
  ...ImportCheckError.codes.map((code): [ErrorCode, Reviver] => [code, (json) => new ImportCheckError(code, json.message, json.data)]),
]);

/** True for what `GitfuncError.toJSON()` produced (also after a structured clone). */
export function isErrorJSON(value: unknown): value is ErrorJSON {
  if (typeof value !== 'object' || value === null) return false;
  const json = value as Partial<ErrorJSON>;
  return isErrorCode(json.code) && typeof json.message === 'string' && typeof json.data === 'object' && json.data !== null;
}

