// A small functions repository whose answers name its version, and admin calls around reloads.
import { ADMIN_TOKEN, adminGet } from './admin-client.js';

/** Files of a repository whose `version` API answers `version` (`slow` sleeps first). */
export function versionRepo(version: string): Record<string, string> {
  return {
    'gitfunc.yaml': [
      'version: 1',
      'syncAPIs:',
      '  - id: version',
      '    func: demo__v.version',
      '  - id: slow',
      '    func: demo__v.slow',
      '',
    ].join('\n'),
    'demo/v.py': [
      'import time',
      '',
      `VERSION = ${JSON.stringify(version)}`,
      '',
      "@DFF.API('Version')",
      'def version():',
      '    return VERSION',
      '',
      "@DFF.API('Slow', timeout=60)",
      "def slow(seconds='1'):",
      '    time.sleep(float(seconds))',
      '    return VERSION',
      '',
    ].join('\n'),
  };
}

/** What `version` answers now (its text, or the status and body of an error). */
export async function servedVersion(base: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/al/version`);
  const text = await res.text();
  return res.status === 200 ? text : `${res.status} ${text}`;
}

/** `POST /api/v1/reload`; with `wait` the outcome of the reload, else the 202 answer's data. */
export async function postReload(base: string, wait: boolean): Promise<{ status: number; data: any }> {
  const res = await fetch(`${base}/api/v1/reload${wait ? '?wait=1' : ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const body = (await res.json()) as { data: unknown };
  return { status: res.status, data: body.data };
}

/** The `reload` section of `GET /api/v1/status`. */
export async function reloadStatus(base: string): Promise<any> {
  return (await adminGet(base, '/api/v1/status')).reload;
}

/** Polls `probe` every 50 ms until it returns true, or fails after `timeoutMs`. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`still not ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
