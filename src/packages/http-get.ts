/**
 * GET over Node's http/https for the package index and the wheels it links: redirects
 * followed, a size cap, and an idle timeout (a silent server does not hang a build).
 */
import http from 'node:http';
import https from 'node:https';
import { GitfuncError } from '../errors.js';

export interface GetOptions {
  /** Larger bodies fail the request. */
  maxBytes: number;
  /** A request with no data for this long fails. */
  idleMs: number;
  accept?: string;
}

const MAX_REDIRECTS = 5;

/** The answer of a successful GET (2xx), or `undefined` on 404. */
export interface GetResult {
  /** The URL finally answered, after redirects (relative links resolve against it). */
  url: string;
  body: Buffer;
}

/** GETs `url`; 404 resolves to undefined, any other failure throws PACKAGE_SOURCE_FAILED. */
export async function httpGet(url: string, options: GetOptions): Promise<GetResult | undefined> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const answer = await getOnce(current, options);
    if (answer.kind === 'redirect') {
      current = new URL(answer.location, current).href;
      continue;
    }
    return answer.kind === 'notFound' ? undefined : { url: current, body: answer.body };
  }
  throw failed(url, `more than ${MAX_REDIRECTS} redirects`);
}

type Answer = { kind: 'ok'; body: Buffer } | { kind: 'notFound' } | { kind: 'redirect'; location: string };

function getOnce(url: string, options: GetOptions): Promise<Answer> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return Promise.reject(failed(url, 'only http and https URLs are fetched'));
  const client = parsed.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.get(parsed, { headers: { accept: options.accept ?? '*/*', 'user-agent': 'gitfunc' } }, (response) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location !== undefined) {
        response.resume();
        resolve({ kind: 'redirect', location });
        return;
      }
      if (status === 404) {
        response.resume();
        resolve({ kind: 'notFound' });
        return;
      }
      if (status < 200 || status >= 300) {
        response.resume();
        reject(failed(url, `HTTP ${status}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          request.destroy();
          reject(failed(url, `larger than ${options.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolve({ kind: 'ok', body: Buffer.concat(chunks) }));
      response.on('error', (error) => reject(failed(url, error.message)));
    });
    request.setTimeout(options.idleMs, () => request.destroy(new Error(`no answer for ${options.idleMs / 1000} s`)));
    request.on('error', (error) => reject(error instanceof GitfuncError ? error : failed(url, error.message)));
  });
}

function failed(url: string, reason: string): GitfuncError {
  return new GitfuncError('PACKAGE_SOURCE_FAILED', `${redactedUrl(url)} could not be read: ${reason}`, { url: redactedUrl(url) });
}

/** A URL as errors show it: credentials of a company mirror (`https://user:token@host/`) never appear. */
export function redactedUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]+@/i, '$1***@');
}
