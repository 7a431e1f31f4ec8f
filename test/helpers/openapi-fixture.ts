// A started gitfunc serving test/fixtures/openapi from a real git server, for the OpenAPI
// document and its /docs page.
import path from 'node:path';
import { ADMIN_TOKEN } from './admin-client.js';
import { createWorkRepo } from './git-repo.js';
import { startGitServer } from './git-server.js';
import { FIXTURES, readTree, startGitfunc, type TestServer } from './start-gitfunc.js';

export const OPENAPI_REPO = path.join(FIXTURES, 'openapi');
/** The one value behind every auth of the repository. */
export const API_TOKEN = 'tok-4e1b9c07d2';

export interface OpenApiStand {
  gitfunc: TestServer;
  /** Commits files and publishes them on the git server (a push); returns the commit. */
  push(files: Record<string, string | null>): Promise<string>;
  close(): Promise<void>;
}

export async function startOpenApiStand(): Promise<OpenApiStand> {
  const git = await startGitServer();
  const work = await createWorkRepo(readTree(OPENAPI_REPO));
  await git.publish('funcs', work.dir);
  const gitfunc = await startGitfunc(['--repo', git.url('funcs'), '--ref', 'main', '--poll-seconds', '0'], {
    API_TOKEN,
    GITFUNC_ENV_ALLOW: 'API_TOKEN',
    GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
  });
  return {
    gitfunc,
    push: async (files) => {
      const commit = await work.commit(files);
      await git.publish('funcs', work.dir);
      return commit;
    },
    close: async () => {
      await gitfunc.close();
      await git.close();
    },
  };
}
