// httpDigest auth (RFC 7616, CONTRACT section 12) against one started gitfunc whose clock the
// test moves: curl --digest and a digest client written here (MD5 and SHA-256, qop=auth), a
// replayed (nonce, nc) refused, an expired nonce answered with stale=true.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { DIGEST_NONCE_LIFETIME_MS, DigestNonces } from '../src/access/digest-nonces.js';
import { AUTH_ENV, AUTH_SCHEMES_REPO, FakeClock, SECRETS } from './helpers/auth-fixture.js';
import { startGitfunc } from './helpers/start-gitfunc.js';

const clock = new FakeClock(Date.now());
const gitfunc = await startGitfunc(['--repo', AUTH_SCHEMES_REPO], AUTH_ENV, { clock });
t.teardown(() => gitfunc.close());
const base = gitfunc.url;
const run = promisify(execFile);

interface Answer {
  status: number;
  body: any;
  challenges: Map<string, Record<string, string>>;
}

/** The Digest challenges of an answer, by algorithm (fetch joins the header lines with ', '). */
function challengesOf(headers: Headers): Map<string, Record<string, string>> {
  const found = new Map<string, Record<string, string>>();
  for (const challenge of (headers.get('www-authenticate') ?? '').split(/, (?=Digest )/)) {
    if (!challenge.startsWith('Digest ')) continue;
    const params: Record<string, string> = {};
    for (const [, name, quoted, plain] of challenge.slice(7).matchAll(/([a-z]+)=(?:"([^"]*)"|([^,\s]+))/gi)) params[name!] = quoted ?? plain!;
    found.set(params.algorithm!, params);
  }
  return found;
}

async function call(pathAndQuery: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${base}${pathAndQuery}`, { headers });
  return { status: res.status, body: await res.json(), challenges: challengesOf(res.headers) };
}

const HASHES = { MD5: 'md5', 'SHA-256': 'sha256' } as const;

interface DigestArgs {
  algorithm: keyof typeof HASHES;
  user: string;
  password: string;
  uri: string;
  nonce: string;
  nc: string;
  method?: string;
  realm?: string;
}

/** An `Authorization: Digest` header as RFC 7616 computes it (qop=auth). */
function digestHeader(args: DigestArgs): string {
  const h = (text: string): string => createHash(HASHES[args.algorithm]).update(text).digest('hex');
  const realm = args.realm ?? 'gitfunc';
  const cnonce = randomBytes(8).toString('hex');
  const ha1 = h(`${args.user}:${realm}:${args.password}`);
  const ha2 = h(`${args.method ?? 'GET'}:${args.uri}`);
  const response = h(`${ha1}:${args.nonce}:${args.nc}:${cnonce}:auth:${ha2}`);
  return (
    `Digest username="${args.user}", realm="${realm}", nonce="${args.nonce}", uri="${args.uri}", algorithm=${args.algorithm}, ` +
    `qop=auth, nc=${args.nc}, cnonce="${cnonce}", response="${response}", opaque="x"`
  );
}

/** A fresh nonce, from the challenge of an unauthenticated call. */
async function freshNonce(): Promise<string> {
  return (await call('/api/v1/al/by-digest/s')).challenges.get('SHA-256')!.nonce!;
}

function assertRefused(t: Test, res: Answer, what: string, stale = false): void {
  t.equal(res.status, 401, what);
  t.match(res.body, { error: 401.99, reason: 'EAuthFailed' }, what);
  t.same([...res.challenges.keys()], ['MD5', 'SHA-256'], `${what}: challenged for MD5, then SHA-256`);
  t.equal(res.challenges.get('MD5')?.stale, stale ? 'true' : undefined, `${what}: stale=${stale}`);
}

t.test('a call without credentials is challenged for MD5 and SHA-256 with qop="auth"', async (t) => {
  const res = await call('/api/v1/al/by-digest/s');
  assertRefused(t, res, 'no credentials');
  const sha = res.challenges.get('SHA-256')!;
  t.match(sha, { realm: 'gitfunc', qop: 'auth', nonce: /^[A-Za-z0-9_-]{40,}$/, opaque: /./ });
  t.equal(res.challenges.get('MD5')!.nonce, sha.nonce, 'one nonce for both');
  t.not((await call('/api/v1/al/by-digest/s')).challenges.get('MD5')!.nonce, sha.nonce, 'each refusal issues a new nonce');
});

t.test('curl --digest is admitted; a wrong password is not', async (t) => {
  const curl = (user: string, password: string): Promise<{ stdout: string }> =>
    run('curl', ['-s', '--digest', '-u', `${user}:${password}`, '-w', '\n%{http_code}', `${base}/api/v1/al/by-digest/s?x=1`]);
  for (const [user, password] of [['ops', SECRETS.OPS_PASSWORD], ['dev', SECRETS.DEV_PASSWORD]] as const) {
    const { stdout } = await curl(user, password);
    const [body, status] = stdout.split('\n');
    t.equal(status, '200', user);
    const seen = JSON.parse(body!);
    t.same(seen.kwargs, { x: '1' });
    t.notOk('authorization' in seen.request.headers, 'Authorization hidden from the function');
  }
  t.match((await curl('ops', SECRETS.DEV_PASSWORD)).stdout, /"error":401\.99[\s\S]*\n401$/, 'wrong password');
  t.match((await curl('eve', SECRETS.OPS_PASSWORD)).stdout, /\n401$/, 'unknown user');
});

t.test("Python's urllib digest handler (MD5 only, reads the first challenge) is admitted", async (t) => {
  const client = [
    'import sys, urllib.request',
    'auth = urllib.request.HTTPDigestAuthHandler()',
    'auth.add_password("gitfunc", sys.argv[1], "ops", sys.argv[2])',
    'print(urllib.request.build_opener(auth).open(sys.argv[1] + "?x=1").status)',
  ].join('\n');
  const { stdout } = await run('python3', ['-c', client, `${base}/api/v1/al/by-digest/s`, SECRETS.OPS_PASSWORD]);
  t.equal(stdout.trim(), '200');
});

t.test('MD5 and SHA-256 responses are admitted; a (nonce, nc) pair only once', async (t) => {
  for (const algorithm of ['MD5', 'SHA-256'] as const) {
    const uri = '/api/v1/al/by-digest/s?x=1';
    const nonce = await freshNonce();
    const first = digestHeader({ algorithm, user: 'ops', password: SECRETS.OPS_PASSWORD, uri, nonce, nc: '00000001' });
    t.equal((await call(uri, { authorization: first })).status, 200, `${algorithm}: admitted`);
    assertRefused(t, await call(uri, { authorization: first }), `${algorithm}: the same header again (a replay)`);
    const next = digestHeader({ algorithm, user: 'ops', password: SECRETS.OPS_PASSWORD, uri, nonce, nc: '00000002' });
    t.equal((await call(uri, { authorization: next })).status, 200, `${algorithm}: the nonce again with the next nc`);
    const again = digestHeader({ algorithm, user: 'ops', password: SECRETS.OPS_PASSWORD, uri, nonce, nc: '00000001' });
    assertRefused(t, await call(uri, { authorization: again }), `${algorithm}: a used nc with a new cnonce`);
  }
});

t.test('wrong password, other uri, forged nonce, wrong realm or qop: refused, not stale', async (t) => {
  const uri = '/api/v1/al/by-digest/s?x=1';
  const right = { algorithm: 'SHA-256' as const, user: 'ops', password: SECRETS.OPS_PASSWORD, uri, nc: '00000001' };
  assertRefused(t, await call(uri, { authorization: digestHeader({ ...right, password: 'wrong', nonce: await freshNonce() }) }), 'wrong password');
  assertRefused(t, await call('/api/v1/al/by-digest/s?x=2', { authorization: digestHeader({ ...right, nonce: await freshNonce() }) }), 'uri of another request');
  assertRefused(t, await call(uri, { authorization: digestHeader({ ...right, method: 'POST', nonce: await freshNonce() }) }), 'another method');
  const forged = (await freshNonce()).replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
  assertRefused(t, await call(uri, { authorization: digestHeader({ ...right, nonce: forged }) }), 'a nonce not issued here');
  assertRefused(t, await call(uri, { authorization: digestHeader({ ...right, realm: 'other', nonce: await freshNonce() }) }), 'another realm');
  const noQop = digestHeader({ ...right, nonce: await freshNonce() }).replace('qop=auth, ', '');
  assertRefused(t, await call(uri, { authorization: noQop }), 'without qop (RFC 2069)');
  const basic = `Basic ${Buffer.from(`ops:${SECRETS.OPS_PASSWORD}`).toString('base64')}`;
  assertRefused(t, await call(uri, { authorization: basic }), 'Basic credentials');
});

t.test('an expired nonce is refused with stale=true; the new nonce is admitted', async (t) => {
  const uri = '/api/v1/al/by-digest/s';
  const nonce = await freshNonce();
  clock.advance(DIGEST_NONCE_LIFETIME_MS - 1000);
  const inTime = digestHeader({ algorithm: 'MD5', user: 'dev', password: SECRETS.DEV_PASSWORD, uri, nonce, nc: '00000001' });
  t.equal((await call(uri, { authorization: inTime })).status, 200, 'still in time');
  clock.advance(2000);
  const late = digestHeader({ algorithm: 'MD5', user: 'dev', password: SECRETS.DEV_PASSWORD, uri, nonce, nc: '00000002' });
  const stale = await call(uri, { authorization: late });
  assertRefused(t, stale, 'expired', true);
  const wrongAndLate = digestHeader({ algorithm: 'MD5', user: 'dev', password: 'wrong', uri, nonce, nc: '00000003' });
  assertRefused(t, await call(uri, { authorization: wrongAndLate }), 'expired and wrong password: not stale');
  const renewed = digestHeader({ algorithm: 'MD5', user: 'dev', password: SECRETS.DEV_PASSWORD, uri, nonce: stale.challenges.get('MD5')!.nonce!, nc: '00000001' });
  t.equal((await call(uri, { authorization: renewed })).status, 200, 'the nonce of the stale answer');
});

t.test('the record of used pairs is bounded; a nonce whose pairs were forgotten is stale', async (t) => {
  const nonces = new DigestNonces({ maxSeenPairs: 2 });
  const first = nonces.issue('a', 1000);
  const second = nonces.issue('a', 2000);
  t.same(nonces.check(first, 'a', 2000), { kind: 'fresh', issuedAt: 1000 });
  t.equal(nonces.check(first, 'b', 2000).kind, 'invalid', 'a nonce is good for the auth it was issued for');
  t.ok(nonces.use(first, 1, 1000, 2000));
  t.notOk(nonces.use(first, 1, 1000, 2000), 'a pair once');
  t.ok(nonces.use(second, 1, 2000, 2000));
  t.ok(nonces.use(second, 2, 2000, 2000), 'a third pair: the oldest leaves the record');
  t.equal(nonces.check(first, 'a', 2000).kind, 'stale', 'so its nonce is refused from now on');
  t.equal(nonces.check(second, 'a', 2000).kind, 'fresh', 'a later nonce is not');
});
