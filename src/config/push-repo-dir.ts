import { join } from 'node:path';

/** The folder name, inside the data dir, of the bare repository `git push` to gitfunc writes into. */
export const PUSH_REPO_NAME = 'push-repo.git';

/** Where pushes are stored: `<dataDir>/push-repo.git` (the served repository when the push remote is on). */
export function pushRepoDir(dataDir: string): string {
  return join(dataDir, PUSH_REPO_NAME);
}
