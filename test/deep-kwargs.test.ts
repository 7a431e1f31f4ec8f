// Hostile nesting: kwargs and options nested thousands of levels deep are refused with a
// clear 400.43 naming the limit, on every sync and async route and call form, never a 5xx;
// input nested exactly to the limit still runs, and its record reads back whole.
import path from 'node:path';
import t from 'tap';
import { MAX_INPUT_DEPTH } from '../src/http/nesting-limit.js';
import { ADMIN_TOKEN, ended, waitForTask } from './helpers/admin-client.js';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

/** The depth the hostile client sent: far past what JSON.stringify survives (~4,000). */
const HOSTILE_DEPTH = 10_000;
/** Deep enough to break JSON.stringify, short enough for a URL under Node's 16 KiB of headers. */
const URL_DEPTH = 5_000;

const gitfunc = await startGitfunc(['--repo', path.join(FIXTURES, 'tasks')], { GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN });
t.teardown(() => gitfunc.close());
const base = gitfunc.url;

/**
 * `{"x": [[...[]...]]}` as JSON text, nesting `depth` levels counting the outer object. Built
 * as text: JSON.stringify cannot write what is being tested.
 */
function nestedText(depth: number): string {
  return `{"x":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
}

/** The same value as nestedText(depth), for depths JSON can still write. */
function nested(depth: number): Record<string, unknown> {
  return JSON.parse(nestedText(depth)) as Record<string, unknown>;
}

/** A text nested like JSON that the simplified forms take as a plain string. */
const BRACKETS = '['.repeat(HOSTILE_DEPTH) + ']'.repeat(HOSTILE_DEPTH);

const SYNC = ['/api/v1/al/echo', '/api/v1/sync/echo'];
const ASYNC = ['/api/v1/bat/echo', '/api/v1/async/echo'];

function jsonBody(text: string): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: text };
}

function multipart(fields: Record<string, string>): RequestInit {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  return { method: 'POST', body };
}

/** Every call form carrying JSON kwargs or options, as [suffix + query, init]. */
function deepCalls(field: 'kwargs' | 'options', depth: number, urlDepth: number): [string, RequestInit][] {
  const text = nestedText(depth);
  const calls: [string, RequestInit][] = [
    // Brackets unescaped (fetch leaves them so): escaped, 5,000 levels would not fit either.
    [`?${field}=${nestedText(urlDepth)}`, {}],
    [`/normal?${field}=${nestedText(urlDepth)}`, {}],
    ['', jsonBody(`{"${field}":${text}}`)],
    ['/normal', jsonBody(`{"${field}":${text}}`)],
    ['/normal', multipart({ [field]: text })],
  ];
  if (field === 'kwargs') calls.push(['/s', jsonBody(text)], ['/simplified', jsonBody(text)]);
  return calls;
}

async function send(url: string, init: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${url}`, init);
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}

t.test('deep kwargs and options get 400.43 naming the limit, on every route and form', async (t) => {
  for (const route of [...SYNC, ...ASYNC]) {
    for (const field of ['kwargs', 'options'] as const) {
      for (const [suffix, init] of deepCalls(field, HOSTILE_DEPTH, URL_DEPTH)) {
        const label = `${init.method ?? 'GET'} ${route}${suffix.split('?')[0]} ${field}${init.body instanceof FormData ? ' (multipart)' : ''}`;
        const res = await send(`${route}${suffix}`, init);
        t.equal(res.status, 400, label);
        t.match(
          res.body,
          {
            ok: false,
            error: 400.43,
            reason: 'EClientBadRequest',
            message: `'${field}' nests objects and lists more than ${MAX_INPUT_DEPTH} levels deep`,
            detail: { field, maxDepth: MAX_INPUT_DEPTH },
          },
          label,
        );
      }
    }
  }
});

t.test('one level past the limit is refused, in the normal and the simplified form', async (t) => {
  for (const route of [...SYNC, ...ASYNC]) {
    const normal = await send(route, jsonBody(`{"kwargs":${nestedText(MAX_INPUT_DEPTH + 1)}}`));
    t.match([normal.status, normal.body], [400, { error: 400.43, detail: { maxDepth: MAX_INPUT_DEPTH } }], route);
    const simplified = await send(`${route}/s`, jsonBody(nestedText(MAX_INPUT_DEPTH + 1)));
    t.match([simplified.status, simplified.body], [400, { error: 400.43, detail: { field: 'kwargs' } }], `${route}/s`);
  }
});

t.test('kwargs nested exactly to the limit run, and the record keeps them whole', async (t) => {
  const kwargs = nested(MAX_INPUT_DEPTH);
  const text = JSON.stringify(kwargs);
  const forms: [string, RequestInit][] = [
    [`?kwargs=${encodeURIComponent(text)}`, {}],
    ['', jsonBody(`{"kwargs":${text}}`)],
    ['/normal', multipart({ kwargs: text })],
    ['/s', jsonBody(text)],
  ];
  for (const route of SYNC) {
    for (const [suffix, init] of forms) {
      const res = await send(`${route}${suffix}`, init);
      t.same([res.status, res.body], [200, kwargs], `${route}${suffix.split('?')[0]}`);
    }
  }
  for (const route of ASYNC) {
    for (const [suffix, init] of forms) {
      const res = await send(`${route}${suffix}`, init);
      t.equal(res.status, 200, `${route}${suffix.split('?')[0]}`);
      const record = await waitForTask(base, res.body.data.id, ended);
      t.match(record, { status: 'success', kwargs, returnValue: kwargs }, `${route}${suffix.split('?')[0]} record`);
    }
  }
});

t.test('the simplified forms take text fields as strings, however bracketed', async (t) => {
  const forms: [string, RequestInit][] = [
    [`/s?x=${BRACKETS.slice(0, URL_DEPTH)}${BRACKETS.slice(-URL_DEPTH)}`, {}],
    ['/simplified', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `x=${BRACKETS}` }],
    ['/s', multipart({ x: BRACKETS })],
  ];
  for (const [suffix, init] of forms) {
    const expected = suffix.includes('?') ? `${BRACKETS.slice(0, URL_DEPTH)}${BRACKETS.slice(-URL_DEPTH)}` : BRACKETS;
    for (const route of SYNC) {
      const res = await send(`${route}${suffix}`, init);
      t.same([res.status, res.body], [200, { x: expected }], `${route}${suffix.split('?')[0]}`);
    }
    for (const route of ASYNC) {
      const res = await send(`${route}${suffix}`, init);
      t.equal(res.status, 200, `${route}${suffix.split('?')[0]}`);
      const record = await waitForTask(base, res.body.data.id, ended);
      t.match(record, { status: 'success', kwargs: { x: expected } });
    }
  }
});

t.test('no deep input gets a 5xx: a deep normal-form form body is refused, an oversize URL gets 431', async (t) => {
  for (const route of [...SYNC, ...ASYNC]) {
    const form = await send(route, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `kwargs=${encodeURIComponent(nestedText(HOSTILE_DEPTH))}`,
    });
    t.match([form.status, form.body], [400, { error: 400.43 }], `${route} form-urlencoded`);
    // 10,000 levels do not fit in a URL: Node refuses the request line before gitfunc reads it.
    const res = await fetch(`${base}${route}?kwargs=${nestedText(HOSTILE_DEPTH)}`);
    await res.arrayBuffer();
    t.equal(res.status, 431, `${route} GET of ${HOSTILE_DEPTH} levels`);
  }
  t.notOk(
    gitfunc.logs.some((line) => String(line.msg).startsWith('unhandled error') || (typeof line.status === 'number' && line.status >= 500)),
    'the server logged no 5xx and no unhandled error',
  );
});
