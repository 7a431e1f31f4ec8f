// Starting on a repository: a private one needs its token, and a broken revision is never served.
import path from 'node:path';
import t from 'tap';
import { RevisionInvalidError } from '../src/errors.js';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { EXAMPLE_REPO, FIXTURES, readTreeFiles, startGitfunc } from './helpers/start-gitfunc.js';

const TOKEN = 'tok-5e3c9a1f';
const git = await startGitServer({ token: TOKEN });
t.teardown(() => git.close());
const work = await createWorkRepo(readTreeFiles(EXAMPLE_REPO));
await git.publish('private', work.dir);

t.test('a private repository is served with the right token', async (t) => {
  const gitfunc = await startGitfunc(['--repo', git.url('private')], { GITFUNC_GIT_TOKEN: TOKEN });
  t.teardown(() => gitfunc.close());
  const res = await fetch(`${gitfunc.url}/api/v1/al/hello/simplified?message=hi`);
  t.same(await res.json(), { message: 'hi' });
  t.match(gitfunc.logs.find((l) => l.msg === 'revision served'), { commit: await work.head() });
});

t.test('a wrong or missing token fails the start clearly, without leaking the token', async (t) => {
  for (const env of [{ GITFUNC_GIT_TOKEN: 'wrong-token-value' }, {}] as Record<string, string>[]) {
    const error = await startGitfunc(['--repo', git.url('private')], env).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    t.equal(error?.code, 'GIT_AUTH_FAILED');
    t.match(error?.message, /authentication failed/);
    t.notMatch(JSON.stringify(error) + String(error?.message), /wrong-token-value|tok-5e3c9a1f/);
  }
});

t.test('a broken revision does not start, and every error has a position', async (t) => {
  const error = await startGitfunc(['--repo', path.join(FIXTURES, 'broken')]).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, RevisionInvalidError);
  const problems = (error as RevisionInvalidError).problems.filter((p) => p.severity === 'error');
  t.equal(problems.length, 5);
  for (const problem of problems) {
    t.ok(problem.line > 0 && problem.col > 0, `${problem.file}:${problem.line}:${problem.col} ${problem.message}`);
  }
});
