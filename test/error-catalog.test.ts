// The one catalog of error codes: API errors carry their DFF numbers from it, domain errors map
// to them, docs/errors.md's tables match it, and an error crossing a worker boundary (structured
// clone, as postMessage does) arrives as the same typed error.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import t from 'tap';
import { withErrorTables } from '../scripts/error-table.js';
import { ERROR_CATALOG, type ErrorCode } from '../src/errors/catalog.js';
import {
  CallInputError,
  type ErrorJSON,
  GitfuncError,
  ImportCheckError,
  isErrorJSON,
  type Problem,
  RevisionInvalidError,
  WorkerError,
} from '../src/errors.js';
import { ApiError, ApiErrors, toApiError } from '../src/http/api-error.js';
import { createLogger } from '../src/log.js';
import { WorkerPool } from '../src/runtime/pool.js';

/** `value` as the other end of a MessagePort receives it. */
function posted<T>(value: T): T {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(value);
  const received = receiveMessageOnPort(port2)!.message as T;
  port1.close();
  return received;
}

t.test('every API error of the catalog has a DFF number whose integer part is an HTTP status, and a reason', async (t) => {
  for (const [code, spec] of Object.entries(ERROR_CATALOG)) {
    t.ok(spec.description.length > 0, `${code} has a description`);
    if (!('error' in spec)) continue;
    t.ok(Math.trunc(spec.error) >= 400 && Math.trunc(spec.error) <= 599, `${code}: ${spec.error}`);
    t.match(spec.reason, /^E[A-Z][A-Za-z]+$/, `${code}: ${spec.reason}`);
  }
  for (const [name, kind] of Object.entries(ApiErrors)) {
    const spec = ERROR_CATALOG[kind.code];
    t.same({ error: kind.error, reason: kind.reason }, { error: spec.error, reason: spec.reason }, `ApiErrors.${name} is the catalog's ${kind.code}`);
  }
});

t.test('an error posted as its JSON is revived as the same class, code, message and data', async (t) => {
  const problems: Problem[] = [{ file: 'demo/a.py', line: 3, col: 1, severity: 'error', message: 'NameError: x' }];
  const errors: GitfuncError[] = [
    new GitfuncError('GIT_UNREACHABLE', 'cannot reach http://x', { url: 'http://x', reason: 'ECONNREFUSED' }),
    new RevisionInvalidError(problems),
    new CallInputError('KWARG_FIXED', 'Cannot specify a fixed kwargs field: mode', { field: 'mode' }),
    new WorkerError('WORKER_TASK_FAILED', 'ENOENT: no such file', { cause: 'ENOENT' }),
    new ImportCheckError('IMPORT_CHECK_STUCK', 'did not stop when interrupted', { deadlineMs: 300 }),
  ];
  for (const error of errors) {
    const json = posted(error.toJSON());
    t.ok(isErrorJSON(json), `${error.code} crosses as plain data`);
    const revived = GitfuncError.fromJSON(json);
    t.equal(revived.constructor, error.constructor, `${error.code} revives as ${error.name}`);
    t.same([revived.name, revived.code, revived.message, revived.data], [error.name, error.code, error.message, error.data]);
  }
  const invalid = GitfuncError.fromJSON(posted(new RevisionInvalidError(problems).toJSON())) as RevisionInvalidError;
  t.same(invalid.problems, problems, 'a revived RevisionInvalidError has its problems');
  // An Error itself loses its class and code on the way: that is why only the JSON is posted.
  const cloned = posted(new WorkerError('WORKER_FAILED', 'gone')) as unknown as Record<string, unknown>;
  t.notOk(cloned instanceof WorkerError);
  t.equal(cloned.code, undefined);
});

t.test('isErrorJSON takes only catalog codes', async (t) => {
  t.notOk(isErrorJSON({ code: 'NO_SUCH_CODE', message: 'x', data: {} }));
  t.notOk(isErrorJSON({ code: 'WORKER_FAILED', message: 'x' }));
  t.notOk(isErrorJSON(new Error('x')));
  t.ok(isErrorJSON({ code: 'WORKER_FAILED', message: 'x', data: {} } satisfies ErrorJSON));
});

t.test('http answers a domain error with its catalog DFF number, message and data as detail', async (t) => {
  const domain = new CallInputError('KWARG_UNEXPECTED', "Unexpected kwargs field 'x': this API does not take it", { field: 'x' });
  const answered = toApiError(domain)!;
  t.type(answered, ApiError);
  t.same(answered.toBody('trace-1'), {
    ok: false,
    error: 400.43,
    reason: 'EClientBadRequest',
    message: "Unexpected kwargs field 'x': this API does not take it",
    detail: { field: 'x' },
    status: 400,
    traceId: 'trace-1',
  });
  const api = new ApiError(ApiErrors.busy, 'busy', {}, { 'Retry-After': '1' });
  t.equal(toApiError(api), api, 'an ApiError is answered as it is');
  t.equal(toApiError(new GitfuncError('GIT_UNREACHABLE', 'x')), undefined, 'a code without a DFF number is not for clients');
  t.equal(toApiError(new Error('bug')), undefined);
});

t.test('the error tables of docs/errors.md are the catalog', async (t) => {
  const doc = readFileSync(path.join(import.meta.dirname, '..', 'docs', 'errors.md'), 'utf8');
  t.equal(withErrorTables(doc), doc, 'run npm run errors:table');
  const codes = Object.keys(ERROR_CATALOG) as ErrorCode[];
  for (const code of codes) t.match(doc, `\`${code}\``, `${code} is in docs/errors.md`);
});

t.test('a task that fails in a real worker rejects with the typed error the worker threw', async (t) => {
  const pool = new WorkerPool({ workers: 1, timeoutGraceMs: 500, maxQueue: 1 }, createLogger('silent'));
  t.teardown(() => pool.close());
  const missing = path.join(import.meta.dirname, 'no-such-revision-dir');
  const error = await pool.warm({ id: 'f'.repeat(40), dir: missing, env: {} }, ['f'.repeat(40)]).then(
    () => undefined,
    (rejected: unknown) => rejected,
  );
  t.type(error, WorkerError);
  t.match(error, { code: 'WORKER_TASK_FAILED', message: /ENOENT/, data: { cause: 'ENOENT' } });
});
