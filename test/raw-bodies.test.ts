// Non-JSON bodies on the simplified form (CONTRACT section 4), the body size limit at its exact
// boundary, and malformed JSON, against a started gitfunc.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

const BODY_LIMIT = 4096;
const configFile = path.join(os.tmpdir(), `gitfunc-raw-bodies-${process.pid}.yaml`);
writeFileSync(configFile, `limits:\n  bodyBytes: ${BODY_LIMIT}\n`);
const gitfunc = await startGitfunc(['--repo', path.join(FIXTURES, 'uploads'), '--config', configFile]);
t.teardown(() => gitfunc.close());

async function post(route: string, body: RequestInit['body'], contentType?: string): Promise<{ status: number; body: any }> {
  const init: RequestInit & { duplex?: 'half' } = { method: 'POST', body };
  if (contentType !== undefined) init.headers = { 'content-type': contentType };
  if (body instanceof ReadableStream) init.duplex = 'half';
  const res = await fetch(`${gitfunc.url}${route}`, init);
  return { status: res.status, body: await res.json() };
}

/** A body fetch sends chunked, without Content-Length. */
function chunked(data: Buffer): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < data.length; i += 1000) controller.enqueue(data.subarray(i, i + 1000));
      controller.close();
    },
  });
}

t.test('a binary body reaches the function as base64, byte-exact', async (t) => {
  const bytes = randomBytes(3000);
  bytes[0] = 0;
  bytes[1] = 0xff;
  const res = await post('/api/v1/al/echo/s', bytes, 'application/octet-stream');
  t.equal(res.status, 200);
  t.same(Object.keys(res.body), ['base64']);
  t.ok(Buffer.from(res.body.base64, 'base64').equals(bytes), 'same bytes back');
});

t.test('text/plain becomes text; XML, other types and no type become base64', async (t) => {
  t.same((await post('/api/v1/al/echo/s', 'héllo\nwörld ✓', 'text/plain; charset=utf-8')).body, { text: 'héllo\nwörld ✓' });
  const xml = '<?xml version="1.0"?><a b="c">ü</a>';
  t.same((await post('/api/v1/al/echo/simplified', xml, 'application/xml')).body, { base64: Buffer.from(xml).toString('base64') });
  t.same((await post('/api/v1/al/echo/s', 'a=b', 'text/csv')).body, { base64: Buffer.from('a=b').toString('base64') });
  const untyped = Buffer.from([1, 2, 3, 0, 250]);
  t.same((await post('/api/v1/al/echo/s', new Blob([untyped]))).body, { base64: untyped.toString('base64') }, 'no content type');
  t.same((await post('/api/v1/al/echo/s', chunked(untyped))).body, { base64: untyped.toString('base64') }, 'chunked, no type');
  t.same((await post('/api/v1/al/echo/s', undefined)).body, {}, 'no body: no kwargs');
});

t.test('bodyBytes is accepted, one byte more is 413.1, declared or chunked', async (t) => {
  for (const [how, send] of [
    ['with Content-Length', (b: Buffer) => b],
    ['chunked', chunked],
  ] as const) {
    const atLimit = await post('/api/v1/al/echo/s', send(Buffer.alloc(BODY_LIMIT, 'x')), 'text/plain');
    t.equal(atLimit.status, 200, `${how}: limit bytes accepted`);
    t.equal(atLimit.body.text.length, BODY_LIMIT);
    const over = await post('/api/v1/al/echo/s', send(Buffer.alloc(BODY_LIMIT + 1, 'x')), 'text/plain');
    t.equal(over.status, 413, `${how}: limit + 1 refused`);
    t.match(over.body, { ok: false, error: 413.1, reason: 'EBodyTooLarge', status: 413, detail: { limitBytes: BODY_LIMIT } });
  }
  const huge = await post('/api/v1/al/echo/s', chunked(Buffer.alloc(BODY_LIMIT * 500, 'x')), 'application/octet-stream');
  t.match([huge.status, huge.body.error], [413, 413.1], 'a much larger chunked body still gets its answer');
  const json = await post('/api/v1/al/echo', Buffer.alloc(BODY_LIMIT + 1, ' '), 'application/json');
  t.match([json.status, json.body.error], [413, 413.1], 'the normal form too');
});

t.test('malformed JSON is 400.43 naming the problem, in both forms, without echoing the body', async (t) => {
  for (const [route, text] of [
    ['/api/v1/al/echo/s', '{"secret-value": '],
    ['/api/v1/al/echo', '{"kwargs": {"secret-value" 1}}'],
    ['/api/v1/al/echo/normal', 'secret-value'],
    ['/api/v1/al/echo/s', '{"a": 1} trailing-secret-value'],
  ] as const) {
    const res = await post(route, text, 'application/json');
    t.equal(res.status, 400, route);
    t.match(res.body, { ok: false, error: 400.43, reason: 'EClientBadRequest', message: /^Invalid JSON body: \S/ }, route);
    t.notMatch(JSON.stringify(res.body), /secret-value/, `${route}: body not echoed`);
  }
  const query = await fetch(`${gitfunc.url}/api/v1/al/echo?kwargs=${encodeURIComponent('{secret-value')}`);
  const body = (await query.json()) as any;
  t.match([query.status, body.error, body.message], [400, 400.43, /Query parameter 'kwargs' is not valid JSON/]);
  t.notMatch(JSON.stringify(body), /secret-value/);
});
