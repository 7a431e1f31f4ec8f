// Reads task records over the admin API of a started gitfunc, as an operator would.

export const ADMIN_TOKEN = 'test-admin-token';

/** GETs an admin endpoint and returns its `data`; throws on a non-200 answer. */
export async function adminGet(base: string, pathAndQuery: string): Promise<any> {
  const res = await fetch(`${base}${pathAndQuery}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const body = (await res.json()) as { data: unknown };
  if (res.status !== 200) throw new Error(`GET ${pathAndQuery}: ${res.status} ${JSON.stringify(body)}`);
  return body.data;
}

/** Polls a task record until `done(record)` holds, or fails after `timeoutMs`. */
export async function waitForTask(base: string, taskId: string, done: (record: any) => boolean, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${base}/api/v1/tasks/${taskId}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    if (res.status === 200) {
      const record = ((await res.json()) as { data: any }).data;
      if (done(record)) return record;
      if (Date.now() > deadline) throw new Error(`task ${taskId} still ${record.status} after ${timeoutMs} ms`);
    } else if (Date.now() > deadline) {
      throw new Error(`task ${taskId}: ${res.status}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** True once a record has ended. */
export function ended(record: { status: string }): boolean {
  return !['queued', 'running'].includes(record.status);
}
