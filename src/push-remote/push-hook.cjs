// git's pre-receive and post-receive hook for the push remote (run by git-receive-pack, under
// `git http-backend`). It asks the running gitfunc, over the loopback check server named in
// GITFUNC_PUSH_CHECK_URL, about a push that moves the served ref:
// - pre-receive: sends the pushed commit's objects (a pack: the objects are still quarantined,
//   only git in this environment can read them) to be built; a commit that does not build is
//   refused (exit 1) and its problems, written to stderr, reach the pusher as `remote:` lines.
// - post-receive: asks gitfunc to serve the commit now and reports what it did.
// Plain CommonJS with no dependency: it runs as its own node process.
'use strict';
const { spawn } = require('node:child_process');
const http = require('node:http');

const ZERO = /^0+$/;
const hook = process.argv[2];

function readStdin() {
  return new Promise((resolve) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
  });
}

/** The new commit of the served ref among git's "<old> <new> <ref>" lines, or undefined. */
function servedUpdate(text) {
  for (const line of text.split('\n')) {
    const [, next, ref] = line.trim().split(' ');
    if (ref === process.env.GITFUNC_PUSH_CHECK_REF && next !== undefined && !ZERO.test(next)) return next;
  }
  return undefined;
}

/** POSTs `body` (a stream, or nothing) to the check server; resolves with its JSON answer. */
function ask(route, commit, body) {
  return new Promise((resolve, reject) => {
    const url = `${process.env.GITFUNC_PUSH_CHECK_URL}/${route}?commit=${commit}`;
    const req = http.request(url, { method: 'POST', headers: { authorization: `Bearer ${process.env.GITFUNC_PUSH_CHECK_SECRET}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new Error(`the check server answered ${res.statusCode}: ${text.slice(0, 200)}`));
        }
      });
    });
    req.on('error', reject);
    if (body === undefined) req.end();
    else body.pipe(req);
  });
}

/** The objects of `commit` and its tree (no history) as a pack stream, read with git in the quarantine environment. */
function packOf(commit) {
  const list = spawn('git', ['rev-list', '--objects', '--no-walk', commit], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pack = spawn('git', ['pack-objects', '--stdout', '-q'], { stdio: ['pipe', 'pipe', 'inherit'] });
  list.stdout.pipe(pack.stdin);
  return pack.stdout;
}

async function main() {
  const commit = servedUpdate(await readStdin());
  if (commit === undefined) return 0;
  const answer = hook === 'pre-receive' ? await ask('check', commit, packOf(commit)) : await ask('serve', commit);
  for (const line of answer.lines ?? []) process.stderr.write(`${line}\n`);
  return answer.accepted === false ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`gitfunc could not check the push: ${error instanceof Error ? error.message : String(error)}\n`);
    // A post-receive failure cannot undo the push; a pre-receive one refuses it (nothing unchecked is stored).
    process.exit(hook === 'pre-receive' ? 1 : 0);
  },
);
