// The push webhook endpoint on a real HTTP server on 127.0.0.1: signed pushes from every
// provider ask for a reload with the pushed commit as a hint; every refusal (wrong or missing
// signature, no secret, oversize body, another branch) answers its status and asks for nothing.
// The endpoint gets a recording ReloadTrigger: the trigger is not the part under test (the
// Reloader behind it has tests of its own).
import { createHmac } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import polka, { type Request } from 'polka';
import t, { type Test } from 'tap';
import { registerWebhookApi, type WebhookApiDeps } from '../src/http/webhook-api.js';
import { createLogger } from '../src/log.js';
import type { ReloadRequest } from '../src/revision/reload-trigger.js';

const SECRET = 'hook-secret-7f3a';
const PATH = '/api/v1/webhooks/git';
const MAX_BODY = 4096;
const SHA = 'a'.repeat(40);

interface WebhookServer {
  url: string;
  reloads: ReloadRequest[];
  logs: Record<string, unknown>[];
  rawLogs: string[];
}

/** The webhook route alone on a real HTTP server, recording the reloads it asks for. */
async function startWebhookServer(t: Test, overrides: Partial<WebhookApiDeps> = {}): Promise<WebhookServer> {
  const reloads: ReloadRequest[] = [];
  const logs: Record<string, unknown>[] = [];
  const rawLogs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        rawLogs.push(line);
        logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const app = polka();
  registerWebhookApi(app, {
    path: PATH,
    secret: SECRET,
    allowUnsigned: false,
    maxBodyBytes: MAX_BODY,
    servedRef: 'main',
    trigger: { request: (request) => reloads.push(request) },
    logger: createLogger('info', sink),
    ...overrides,
  });
  const server = createServer((req, res) => void app.handler(req as Request, res, undefined as never));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`, reloads, logs, rawLogs };
}

function hmac(body: string, secret = SECRET): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

const pushBody = (ref = 'refs/heads/main', after = SHA): string => JSON.stringify({ ref, before: '0'.repeat(40), after, marker: 'BODY-MARKER' });

/** A signed push as each provider sends it. */
const SENDERS: Record<string, (body: string, secret?: string) => Record<string, string>> = {
  github: (body, secret) => ({ 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmac(body, secret)}` }),
  gitlab: (_body, secret = SECRET) => ({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secret }),
  // Gitea also sends GitHub's event header; its own headers must win.
  gitea: (body, secret) => ({ 'x-gitea-event': 'push', 'x-github-event': 'push', 'x-gitea-signature': hmac(body, secret) }),
  forgejo: (body, secret) => ({ 'x-forgejo-event': 'push', 'x-forgejo-signature': hmac(body, secret) }),
  generic: (body, secret) => ({ 'x-gitfunc-signature': `sha256=${hmac(body, secret)}` }),
};

async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

function hasCors(headers: Headers): boolean {
  return [...headers.keys()].some((name) => name.startsWith('access-control-'));
}

const server = await startWebhookServer(t);

t.test('a signed push from each provider answers 202 and asks for a reload with the commit hint', async (t) => {
  for (const [name, sign] of Object.entries(SENDERS)) {
    server.reloads.length = 0;
    const body = pushBody();
    const res = await post(server.url, body, sign(body));
    t.equal(res.status, 202, name);
    t.match(res.body, { ok: true, data: { provider: name === 'forgejo' ? 'gitea' : name, ref: 'refs/heads/main', reload: 'requested' } }, name);
    t.same(server.reloads, [{ source: 'webhook', commitHint: SHA }], name);
    t.notOk(hasCors(res.headers), `${name}: no CORS headers`);
  }
});

t.test('Bitbucket Cloud and Data Center pushes are read from their own payload shapes', async (t) => {
  const cloud = JSON.stringify({
    push: { changes: [{ new: { type: 'branch', name: 'dev', target: { hash: 'b'.repeat(40) } } }, { new: { type: 'branch', name: 'main', target: { hash: SHA } } }] },
  });
  const dataCenter = JSON.stringify({ changes: [{ ref: { id: 'refs/heads/main', type: 'BRANCH' }, toHash: SHA, type: 'UPDATE' }] });
  for (const [eventKey, body] of [['repo:push', cloud], ['repo:refs_changed', dataCenter]] as const) {
    server.reloads.length = 0;
    const res = await post(server.url, body, { 'x-event-key': eventKey, 'x-hub-signature': `sha256=${hmac(body)}` });
    t.equal(res.status, 202, eventKey);
    t.same(server.reloads, [{ source: 'webhook', commitHint: SHA }], eventKey);
  }
});

t.test("GitHub's form-encoded payload (payload=<json>) is accepted too", async (t) => {
  server.reloads.length = 0;
  const body = new URLSearchParams({ payload: pushBody() }).toString();
  const res = await post(server.url, body, { ...SENDERS.github!(body), 'content-type': 'application/x-www-form-urlencoded' });
  t.equal(res.status, 202);
  t.same(server.reloads, [{ source: 'webhook', commitHint: SHA }]);
});

t.test('a wrong signature from any provider is 401.99 and reloads nothing', async (t) => {
  server.reloads.length = 0;
  const body = pushBody();
  for (const [name, sign] of Object.entries(SENDERS)) {
    const res = await post(server.url, body, sign(body, 'not-the-secret'));
    t.equal(res.status, 401, name);
    t.match(res.body, { ok: false, error: 401.99, reason: 'EAuthFailed', status: 401 }, name);
    t.notOk(hasCors(res.headers), `${name}: no CORS headers`);
  }
  const bitbucket = await post(server.url, body, { 'x-event-key': 'repo:push', 'x-hub-signature': `sha256=${hmac(body, 'wrong')}` });
  t.equal(bitbucket.status, 401, 'bitbucket');
  // Signed, then changed in transit: the signature covers the exact bytes.
  const tampered = await post(server.url, pushBody('refs/heads/main', 'c'.repeat(40)), SENDERS.github!(body));
  t.equal(tampered.status, 401, 'a body other than the signed one');
  t.same(server.reloads, []);
});

t.test('a missing or malformed signature is 401.99 and reloads nothing', async (t) => {
  server.reloads.length = 0;
  const body = pushBody();
  const cases: Record<string, Record<string, string>> = {
    'no header at all': {},
    'GitHub event without a signature': { 'x-github-event': 'push' },
    'GitHub sha1 signature only': { 'x-github-event': 'push', 'x-hub-signature': `sha1=${createHmac('sha1', SECRET).update(body).digest('hex')}` },
    'signature without the sha256= prefix': { 'x-github-event': 'push', 'x-hub-signature-256': hmac(body) },
    'truncated signature': { 'x-gitfunc-signature': `sha256=${hmac(body).slice(0, 63)}` },
    'GitLab event without a token': { 'x-gitlab-event': 'Push Hook' },
    'Gitea event without a signature': { 'x-gitea-event': 'push' },
  };
  for (const [name, headers] of Object.entries(cases)) {
    const res = await post(server.url, body, headers);
    t.equal(res.status, 401, name);
    t.equal(res.body.error, 401.99, name);
  }
  t.same(server.reloads, []);
});

t.test('with no secret configured every webhook is refused with 403', async (t) => {
  const open = await startWebhookServer(t, { secret: undefined });
  const body = pushBody();
  for (const [name, sign] of Object.entries(SENDERS)) {
    const res = await post(open.url, body, sign(body));
    t.equal(res.status, 403, name);
    t.match(res.body, { ok: false, reason: 'EWebhookDisabled', status: 403 }, name);
  }
  t.same(open.reloads, []);
});

t.test('webhook.allowUnsigned accepts unsigned pushes while no secret is set (dangerous, explicit)', async (t) => {
  const open = await startWebhookServer(t, { secret: undefined, allowUnsigned: true });
  const res = await post(open.url, pushBody(), { 'x-github-event': 'push' });
  t.equal(res.status, 202);
  t.same(open.reloads, [{ source: 'webhook', commitHint: SHA }]);
  t.match(open.logs.find((line) => line.msg === 'webhook accepted'), { webhook: { reason: /allowUnsigned/ } }, 'logged as unsigned');
});

t.test('a body over webhook.maxBodyBytes is 413.1, declared or streamed, and reloads nothing', async (t) => {
  server.reloads.length = 0;
  const big = JSON.stringify({ ref: 'refs/heads/main', after: SHA, pad: 'x'.repeat(MAX_BODY) });
  const declared = await post(server.url, big, SENDERS.github!(big));
  t.equal(declared.status, 413);
  t.match(declared.body, { error: 413.1, reason: 'EBodyTooLarge' });

  // Chunked, no Content-Length: counted while reading.
  const streamed = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...SENDERS.github!(big) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    for (let i = 0; i < big.length; i += 1000) req.write(big.slice(i, i + 1000));
    req.end();
  });
  t.equal(streamed, 413);
  t.same(server.reloads, []);
});

t.test('a push to another branch, a deleted branch or a tag answers 202 with ignored and reloads nothing', async (t) => {
  server.reloads.length = 0;
  for (const body of [pushBody('refs/heads/dev'), pushBody('refs/tags/v2'), pushBody('refs/heads/main', '0'.repeat(40))]) {
    const res = await post(server.url, body, SENDERS.github!(body));
    t.equal(res.status, 202, body);
    t.type(res.body.data.ignored, 'string', body);
  }
  t.same(server.reloads, []);
});

t.test('ping events answer 200; other events 200 ignored; nothing reloads', async (t) => {
  server.reloads.length = 0;
  const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
  const pings: Record<string, string>[] = [
    { 'x-github-event': 'ping', 'x-hub-signature-256': `sha256=${hmac(body)}` },
    { 'x-event-key': 'diagnostics:ping', 'x-hub-signature': `sha256=${hmac(body)}` },
    { 'x-gitfunc-event': 'ping', 'x-gitfunc-signature': `sha256=${hmac(body)}` },
  ];
  for (const headers of pings) {
    const res = await post(server.url, body, headers);
    t.equal(res.status, 200, JSON.stringify(headers));
    t.match(res.body, { ok: true, data: { pong: true } });
  }
  const issues = await post(server.url, body, { 'x-github-event': 'issues', 'x-hub-signature-256': `sha256=${hmac(body)}` });
  t.equal(issues.status, 200);
  t.match(issues.body.data.ignored, /not a push/);
  // A ping needs a valid signature like anything else.
  const unsigned = await post(server.url, body, { 'x-github-event': 'ping' });
  t.equal(unsigned.status, 401);
  t.same(server.reloads, []);
});

t.test('the payload is only a hint: a malformed commit id is not passed on, bad JSON is 400.43', async (t) => {
  server.reloads.length = 0;
  const odd = pushBody('refs/heads/main', 'not-a-commit; rm -rf /');
  t.equal((await post(server.url, odd, SENDERS.github!(odd))).status, 202);
  t.same(server.reloads, [{ source: 'webhook' }], 'reload without a hint');

  const broken = '{"ref": "refs/heads/main", BODY-MARKER';
  const res = await post(server.url, broken, SENDERS.generic!(broken));
  t.equal(res.status, 400);
  t.match(res.body, { error: 400.43 });
  t.notMatch(JSON.stringify(res.body), /BODY-MARKER/, 'the body is not echoed');
  const noRef = JSON.stringify({ after: SHA });
  t.equal((await post(server.url, noRef, SENDERS.generic!(noRef))).status, 400);
  t.equal(server.reloads.length, 1);
});

t.test('each webhook is logged with provider, event, ref and outcome, never the body or secret', async (t) => {
  const logs = server.logs.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('webhook '));
  t.ok(logs.length > 20, 'one line per webhook');
  t.match(logs.find((line) => line.msg === 'webhook accepted'), { webhook: { provider: 'github', event: 'push', ref: 'refs/heads/main', outcome: 'accepted' } });
  t.match(logs.find((line) => line.msg === 'webhook refused'), { level: 40, webhook: { outcome: 'refused', reason: String } });
  t.match(logs.find((line) => (line.webhook as { outcome?: string }).outcome === 'ignored'), { webhook: { reason: /served ref/ } });
  const all = server.rawLogs.join('\n');
  t.notMatch(all, SECRET, 'no secret');
  t.notMatch(all, 'BODY-MARKER', 'no body');
  t.notMatch(all, hmac(pushBody()), 'no signature');
});
