import { rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { PreparedResponse } from '../response/prepare-response.js';
import { type RequestScope, scopeHeaders } from './respond.js';

/** Writes a prepared response (streaming its file); resolves once it is sent or the client left. */
export async function sendPrepared(res: ServerResponse, scope: RequestScope, prepared: PreparedResponse): Promise<void> {
  for (const [name, value] of prepared.headers) res.setHeader(name, value);
  for (const [name, value] of Object.entries(scopeHeaders(scope))) res.setHeader(name, value);
  if (prepared.file === undefined) {
    const body = prepared.body ?? '';
    res.setHeader('content-length', Buffer.byteLength(body));
    res.writeHead(prepared.status);
    res.end(body);
    return;
  }
  const file = prepared.file;
  res.writeHead(prepared.status);
  try {
    await pipeline(file.handle.createReadStream({ autoClose: false }), res);
  } catch {
    res.destroy(); // the client went away, or the file could not be read: nothing more to send
  } finally {
    await file.handle.close();
    if (prepared.deleteAfter) await rm(file.realPath, { force: true });
  }
}
