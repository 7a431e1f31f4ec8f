import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { SITE_WHEELS_FILE } from './install-packages.js';

/** A temporary folder older than this is a crashed install's leftover (a live install takes seconds). */
const STALE_TMP_MS = 60 * 60 * 1000;

/**
 * Removes the installed package folders under `<packagesDir>/sites/` that no kept revision uses,
 * crashed installs' leftovers, and the cached wheels no remaining folder was made from.
 * Returns the names of the folders removed.
 */
export async function prunePackages(packagesDir: string, keepSites: ReadonlySet<string>): Promise<string[]> {
  const sitesDir = path.join(packagesDir, 'sites');
  const names = await readdir(sitesDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const removed: string[] = [];
  const keptWheels = new Set<string>();
  for (const name of names) {
    const dir = path.join(sitesDir, name);
    if (name.startsWith('.tmp-')) {
      if (Date.now() - (await stat(dir)).mtimeMs < STALE_TMP_MS) continue;
    } else if (keepSites.has(dir)) {
      // A folder without the list (made by hand, damaged) keeps no wheel: they are fetched again if needed.
      const listed = await readFile(path.join(dir, SITE_WHEELS_FILE), 'utf8').catch(() => '');
      for (const sha256 of listed.split('\n')) if (sha256 !== '') keptWheels.add(sha256);
      continue;
    }
    await rm(dir, { recursive: true, force: true });
    removed.push(name);
  }
  const wheelsDir = path.join(packagesDir, 'wheels');
  for (const file of await readdir(wheelsDir).catch(() => [] as string[])) {
    if (file.endsWith('.whl') && !keptWheels.has(file.slice(0, -4))) await rm(path.join(wheelsDir, file), { force: true });
  }
  return removed;
}
