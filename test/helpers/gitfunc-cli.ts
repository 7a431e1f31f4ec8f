// The command line that runs the gitfunc CLI in the tests that spawn it as a process.
//
// The built dist/ when it is current, the sources through tsx when it is not:
// - dist/ because a process through tsx starts ~0.4 s of CPU later (measured 0.6 s against
//   0.2 s for `--version`), and every worker thread of a spawned server loads tsx again; the
//   suite spawns the CLI ~75 times. CI builds dist/ (`npm run build`) before `npm test`.
// - the sources when dist/ is older than a file of src/: a developer who edits src/ and runs
//   `npx tap test/x.test.ts` without building tests the edit, not the old build. The test says
//   so on stderr, once. It does not build dist/ itself: test files run in parallel, and a build
//   would rewrite dist/ under the processes other files run from it.
// "Current" is bin/gitfunc.js's own test: dist/.built (the last step of `npm run build`) is newer
// than every file under src/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'gitfunc.js');
const MAIN = path.join(ROOT, 'src', 'main.ts');
const BUILT = path.join(ROOT, 'dist', '.built');

/** Whether dist/ was built after the last change under src/. */
export function distIsCurrent(): boolean {
  if (!existsSync(BUILT)) return false;
  const built = statSync(BUILT).mtimeMs;
  for (const entry of readdirSync(path.join(ROOT, 'src'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && statSync(path.join(entry.parentPath, entry.name)).mtimeMs > built) return false;
  }
  return true;
}

let launcher: string[] | undefined;

/** `node bin/gitfunc.js` when dist/ is current, else `node --import=tsx src/main.ts`; the command's arguments follow. */
export function gitfuncCli(): string[] {
  if (launcher === undefined) {
    if (distIsCurrent()) {
      launcher = [process.execPath, BIN];
    } else {
      process.stderr.write('# dist/ is older than src/ (or not built): the gitfunc CLI runs from src/ through tsx; `npm run build` makes it faster\n');
      launcher = [process.execPath, '--import=tsx', MAIN];
    }
  }
  return launcher;
}
