// Pinned packages come from the repository's wheels/, the server's wheelhouse and a PEP 503
// index, in that order (first hit wins); they are checked, cached by sha256 in the data dir,
// installed into the revision's own folder, and a script imports them like any module.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ADMIN_TOKEN } from './helpers/admin-client.js';
import { postReload } from './helpers/reload-repo.js';
import { startGitfunc } from './helpers/start-gitfunc.js';
import { buildDebianWheels, buildWheel, pinsOf, startPackageIndex } from './helpers/wheels.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-packages-sources-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

const debian = buildDebianWheels(['requests', 'urllib3', 'idna', 'certifi', 'charset-normalizer', 'six']);
const tiny = (name: string, where: string, dir: string) => buildWheel(dir, name, '1.0', { [`${name}.py`]: `WHERE = ${JSON.stringify(where)}\n` });
const wheelhouse = path.join(scratch, 'wheelhouse');
const fromHouse = tiny('tinyhouse', 'wheelhouse', wheelhouse);
// `shadowed` is in the repository's wheels/, the wheelhouse and on the index: wheels/ wins.
const shadowedOnIndex = tiny('shadowed', 'index', path.join(scratch, 'index-only'));
tiny('shadowed', 'wheelhouse', wheelhouse);
const index = await startPackageIndex([...debian, shadowedOnIndex]);
t.teardown(() => index.close());

const repo = path.join(scratch, 'repo');
const repoWheels = path.join(repo, 'wheels');
tiny('tinyrepo', 'repo', repoWheels);
tiny('shadowed', 'repo', repoWheels);
const SCRIPT = `import requests
import six
import shadowed
import tinyhouse
import tinyrepo


@DFF.API('Where each package came from')
def versions():
    return {
        'requests': requests.__version__,
        'six': six.__version__,
        'requestsFile': requests.__file__,
        'tinyrepo': tinyrepo.WHERE,
        'tinyhouse': tinyhouse.WHERE,
        'shadowed': shadowed.WHERE,
    }
`;
function writeRepo(extraApi = ''): void {
  const pins = [...pinsOf(debian), 'tinyrepo==1.0', 'tinyhouse==1.0', 'shadowed==1.0'];
  writeFileSync(
    path.join(repo, 'gitfunc.yaml'),
    ['version: 1', 'packages:', ...pins.map((p) => `  - ${p}`), 'syncAPIs:', '  - id: versions', '    func: demo__pkgs.versions', extraApi, ''].join('\n'),
  );
}
mkdirSync(path.join(repo, 'demo'), { recursive: true });
writeFileSync(path.join(repo, 'demo', 'pkgs.py'), SCRIPT);
writeRepo();

const gitfunc = await startGitfunc(['--repo', repo, '--poll-seconds', '0'], {
  GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
  GITFUNC_PACKAGE_INDEX: index.url,
  GITFUNC_WHEELHOUSE: wheelhouse,
});
t.teardown(() => gitfunc.close());

t.test('a script imports packages from the index, the wheelhouse and the repository, the first source winning', async (t) => {
  const res = await fetch(`${gitfunc.url}/api/v1/al/versions`);
  const body = (await res.json()) as Record<string, string>;
  t.equal(res.status, 200, JSON.stringify(body));
  t.match(body, { requests: '2.28.1', six: '1.16.0', tinyrepo: 'repo', tinyhouse: 'wheelhouse', shadowed: 'repo' });
  t.match(body.requestsFile, /^\/gitfunc-packages\/[0-9a-f]{32}\/requests\/__init__\.py$/, 'imported from the mounted installed folder');
  t.notOk(index.requests.includes(`/files/${shadowedOnIndex.fileName}`), 'a package found earlier is not downloaded');
  t.notOk(existsSync(path.join(wheelhouse, '__pycache__')), 'nothing written next to the wheels');
});

t.test('downloads are cached by sha256 and the installed set is reused by a revision with the same pins', async (t) => {
  const cached = readdirSync(path.join(gitfunc.dataDir, 'packages', 'wheels'));
  for (const wheel of [...debian, fromHouse]) t.ok(cached.includes(`${wheel.sha256}.whl`), `${wheel.fileName} cached by its sha256`);
  const sites = readdirSync(path.join(gitfunc.dataDir, 'packages', 'sites'));
  t.equal(sites.length, 1, 'one installed set');
  const downloads = index.requests.filter((r) => r.startsWith('/files/')).length;
  t.equal(downloads, debian.length, 'each wheel downloaded once');

  writeRepo('  - id: versions2\n    func: demo__pkgs.versions');
  const { data } = await postReload(gitfunc.url, true);
  t.match(data, { result: 'served' }, JSON.stringify(data));
  t.equal(index.requests.filter((r) => r.startsWith('/files/')).length, downloads, 'nothing downloaded again');
  t.same(readdirSync(path.join(gitfunc.dataDir, 'packages', 'sites')), sites, 'the same installed folder serves the new commit');
  const res = await fetch(`${gitfunc.url}/api/v1/al/versions2`);
  t.equal(res.status, 200);
});
