// Every runnable example of README.md and docs/*.md (blocks marked `sh example`, see
// test/helpers/doc-examples.ts), run against ONE real server on functions.example as shipped,
// its admin token the one the quick start exports.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ROOT, docCommands, mismatch, runSession } from './helpers/doc-examples.js';
import { EXAMPLE_REPO, SHARED_SNAPSHOT_DIR, startGitfunc } from './helpers/start-gitfunc.js';

const ADMIN_TOKEN = 'dev-token'; // the README's quick start exports this one
const gitfunc = await startGitfunc(['--repo', EXAMPLE_REPO], { GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN });
t.teardown(() => gitfunc.close());
const port = Number(new URL(gitfunc.url).port);
const home = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-docs-'));
t.teardown(() => rmSync(home, { recursive: true, force: true }));

const files = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const withExamples = files.map((file) => ({ file, commands: docCommands(file, 'example') })).filter((f) => f.commands.length > 0);

t.ok(withExamples.length >= 6, `examples in ${withExamples.map((f) => f.file).join(', ')}`);

for (const { file, commands } of withExamples) {
  t.test(`${file}: ${commands.length} example commands`, async (t) => {
    const errDir = mkdtempSync(path.join(home, 'stderr-'));
    const results = await runSession(commands, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: home, GITFUNC_URL: gitfunc.url, GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN, GITFUNC_SNAPSHOT_DIR: SHARED_SNAPSHOT_DIR },
      port,
      timeoutMs: 30_000,
      errDir,
    });
    for (const result of results) {
      const why = mismatch(result, port);
      t.notOk(why, why ?? result.command.where);
    }
  });
}
