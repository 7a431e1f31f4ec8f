// GET /api/v1/openapi.json (CONTRACT section 14): an OpenAPI 3.1 document of the served
// revision, valid for a well-kept validator (@apidevtools/swagger-parser), matching the
// manifest (hidden APIs absent, kwargs and defaults from the signatures, auth schemes on the
// right APIs), and rebuilt when a reload serves a new commit. Against one started gitfunc.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import t from 'tap';
import { postReload } from './helpers/reload-repo.js';
import { API_TOKEN, OPENAPI_REPO, startOpenApiStand } from './helpers/openapi-fixture.js';

const stand = await startOpenApiStand();
t.teardown(() => stand.close());
const base = stand.gitfunc.url;

async function fetchDocument(): Promise<{ text: string; doc: any; res: Response }> {
  const res = await fetch(`${base}/api/v1/openapi.json`);
  const text = await res.text();
  return { text, doc: JSON.parse(text), res };
}

const first = await fetchDocument();
const doc = first.doc;
const post = (path: string): any => doc.paths[path].post;
const get = (path: string): any => doc.paths[path].get;
const normalKwargs = (path: string): any => post(path).requestBody.content['application/json'].schema.properties.kwargs;

t.test('open to all, and valid OpenAPI 3.1', async (t) => {
  t.equal(first.res.status, 200, 'no admin token needed');
  t.match(first.res.headers.get('content-type'), /^application\/json/);
  t.equal(doc.openapi, '3.1.0');
  // The validator dereferences in place: give it its own copy.
  await t.resolves(SwaggerParser.validate(structuredClone(doc)), 'swagger-parser accepts it');
  t.notOk(first.text.includes(API_TOKEN), 'no secret value anywhere in it');
  t.equal((await fetchDocument()).text, first.text, 'the same document on the next request');
});

t.test('every sync and async API in each call form; hidden ones absent', async (t) => {
  const apiPaths = Object.keys(doc.paths);
  for (const id of ['greet', 'add', 'echo', 'by-token', 'by-basic', 'by-digest', 'by-func']) {
    for (const suffix of ['', '/normal', '/simplified', '/s']) {
      const path = `/api/v1/al/${id}${suffix}`;
      t.ok(doc.paths[path]?.get && doc.paths[path]?.post, `${path}: GET and POST`);
    }
  }
  t.ok(doc.paths['/api/v1/bat/report']?.post, 'the async API');
  t.notOk(apiPaths.some((path) => path.includes('internal')), 'the is_hidden sync API is absent');
  t.notOk(apiPaths.some((path) => path.includes('hidden-report')), 'an async API of a hidden function is absent');
  t.equal(apiPaths.length, 8 * 4, '7 sync APIs and 1 async one, 4 paths each');
  t.equal(get('/api/v1/al/greet').summary, 'Greeting (normal form)', "the manifest's title");
  t.match(get('/api/v1/al/greet').description, /Says hello to a name/, "the manifest's description");
  t.match(get('/api/v1/al/echo').summary, /^Echo any kwargs/, "else the function's title");
});

t.test('kwargs: names, defaults and types from the signature', async (t) => {
  const greet = normalKwargs('/api/v1/al/greet');
  t.same(greet.properties.name, { type: 'string', default: 'world', description: 'Python annotation: `str`' });
  t.match(greet.properties.times, { type: 'integer', default: 1 });
  t.match(greet.properties.loud, { type: 'boolean', default: false });
  t.match(greet.properties.tags, { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'null' }], default: null });
  t.equal(greet.additionalProperties, false, 'no other name: the function takes none');
  t.equal(greet.required, undefined, 'every parameter has a default');

  const add = normalKwargs('/api/v1/al/add');
  t.same(Object.keys(add.properties), ['a', 'b'], "the manifest's INPUT_BY_CALLER names only, not its fixed `scale`");
  t.match(add.properties.b, { type: 'number', default: 0.5 });
  t.same(add.required, ['a'], 'a parameter without a default');
  t.match(get('/api/v1/al/add').description, /Fixed by the manifest.*`scale`/);

  const echo = normalKwargs('/api/v1/al/echo');
  t.same(echo.properties.prefix, { default: '>' }, 'no annotation: any type');
  t.equal(echo.additionalProperties, true, '**kwargs: any name');

  const report = post('/api/v1/bat/report').requestBody.content['application/json'].schema.properties.kwargs;
  t.same(report.required, ['days']);
  t.match(report.properties.kinds, { type: 'array', items: { type: 'string' }, description: /default: `frozenset\(\{'daily'\}\)`/ }, 'a default JSON cannot carry, as its repr');
  t.match(report.properties.options, { type: 'object', additionalProperties: { type: 'integer' }, default: null, description: /`dict\[str, int\]`/ }, 'a quoted annotation');

  const query = get('/api/v1/al/greet/simplified').parameters;
  t.same(query.map((p: any) => [p.name, p.schema]), [
    ['name', { type: 'string', default: 'world' }],
    ['times', { type: 'string', default: '1' }],
    ['loud', { type: 'string', default: 'false' }],
    ['tags', { type: 'string' }],
  ], 'the simplified GET: one string query parameter per kwarg');
  t.match(get('/api/v1/al/greet').parameters, [{ name: 'kwargs', in: 'query', content: { 'application/json': {} } }, { name: 'options', in: 'query' }], 'the normal GET: kwargs and options as JSON');
  t.ok(post('/api/v1/al/greet/s').requestBody.content['multipart/form-data'], 'uploads on the simplified form');
  t.notOk(post('/api/v1/al/greet').requestBody.content['multipart/form-data'], 'not on the bare normal form');
  t.ok(post('/api/v1/al/greet/normal').requestBody.content['multipart/form-data'], 'but on /normal');
});

t.test('auth schemes on the right APIs only', async (t) => {
  const schemes = doc.components.securitySchemes;
  t.same(schemes['token.header.x-token'], { type: 'apiKey', in: 'header', name: 'x-token', description: "API auth 'token' (fixedField)" });
  t.match(schemes['token.query.token'], { type: 'apiKey', in: 'query', name: 'token' });
  t.match(schemes['ops-basic'], { type: 'http', scheme: 'basic' });
  t.match(schemes['ops-digest'], { type: 'http', scheme: 'digest' });
  t.same(Object.keys(schemes).sort(), ['ops-basic', 'ops-digest', 'token.header.x-token', 'token.query.token']);

  const operations = (id: string): any[] => ['', '/normal', '/simplified', '/s'].flatMap((s) => [get(`/api/v1/al/${id}${s}`), post(`/api/v1/al/${id}${s}`)]);
  const expected: Record<string, [unknown, string | undefined]> = {
    'by-token': [[{ 'token.header.x-token': [] }, { 'token.query.token': [] }], 'fixedField'],
    'by-basic': [[{ 'ops-basic': [] }], 'httpBasic'],
    'by-digest': [[{ 'ops-digest': [] }], 'httpDigest'],
    'by-func': [undefined, 'func'],
    greet: [undefined, undefined],
    add: [undefined, undefined],
    echo: [undefined, undefined],
  };
  for (const [id, [security, type]] of Object.entries(expected)) {
    for (const op of operations(id)) {
      t.same(op.security, security, `${op.operationId}: security`);
      t.same(op['x-gitfunc-auth'], type === undefined ? undefined : { id: { 'by-token': 'token', 'by-basic': 'ops-basic', 'by-digest': 'ops-digest', 'by-func': 'gate' }[id], type }, `${op.operationId}: auth`);
      t.equal('401' in op.responses, type !== undefined, `${op.operationId}: 401 only with an auth`);
    }
  }
  t.match(get('/api/v1/al/by-token').description, /body field `apiToken`/, 'a body field, which OpenAPI cannot declare, in words');
  t.match(get('/api/v1/al/by-func').description, /\(func\): a function of the repository/);
});

t.test('responses: results, task ids, throttling and DFF error bodies', async (t) => {
  t.match(doc.components.schemas.DffError, { required: ['ok', 'error', 'reason', 'message', 'detail', 'status', 'traceId'] });
  const add = get('/api/v1/al/add/s').responses;
  t.match(add['429'], { description: /`429.46` EThrottled/, headers: { 'Retry-After': {} }, content: { 'application/json': { schema: { $ref: '#/components/schemas/DffError' } } } }, 'a throttled API answers 429.46');
  t.match(add['599'].description, /599.1.*599.2.*599.99/s);
  t.match(add['200'].content, { 'application/json': {}, 'text/plain': { schema: { type: 'string' } } });
  t.notOk('429' in get('/api/v1/al/greet').responses, 'an API without throttling never answers 429');
  const report = post('/api/v1/bat/report').responses;
  t.match(report['200'].content['application/json'].schema, { $ref: '#/components/schemas/AsyncAccepted' });
  t.match(report['429'].description, /429.47/, 'the async queue full');
  t.notOk(/429.46/.test(report['429'].description), 'no throttling on it');
  t.notOk('599' in report, 'an async call never waits for the function');
});

t.test('the document describes what the server answers', async (t) => {
  const res = await fetch(`${base}/api/v1/al/add/s`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 1 }) });
  t.equal(await res.text(), '3', "b's default 0.5 and the fixed scale 2, as documented");
  const refused = await fetch(`${base}/api/v1/al/add/s`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 1, scale: 3 }) });
  t.equal(refused.status, 400, 'a fixed kwarg given: the 400 the document lists');
});

t.test('a reload that adds an API rebuilds the document', async (t) => {
  const manifest = readFileSync(path.join(OPENAPI_REPO, 'gitfunc.yaml'), 'utf8');
  const commit = await stand.push({
    'gitfunc.yaml': manifest.replace('syncAPIs:\n', 'syncAPIs:\n  - {id: shout, func: demo__more.shout}\n'),
    'demo/more.py': "@DFF.API('Shout')\ndef shout(word: str, times: int = 3):\n    return word.upper() * times\n",
  });
  t.match((await postReload(base, true)).data, { result: 'served', commit });
  const next = (await fetchDocument()).doc;
  t.equal(next.info.version, commit, 'the served commit');
  const shout = next.paths['/api/v1/al/shout'].post.requestBody.content['application/json'].schema.properties.kwargs;
  t.same(shout.required, ['word']);
  t.match(shout.properties.times, { type: 'integer', default: 3 });
  t.equal(Object.keys(next.paths).length, 9 * 4, 'one API more');
  await t.resolves(SwaggerParser.validate(structuredClone(next)));
});
