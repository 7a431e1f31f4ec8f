/**
 * A PEP 503 simple index: `<index>/<normalised name>/` is an HTML page of `<a>` links, one per
 * file, each URL ending in `#sha256=<hex>` (PyPI, devpi, Artifactory, a folder served by nginx).
 */
import { httpGet, redactedUrl } from './http-get.js';

/** One file the index lists for a project. */
export interface IndexFile {
  fileName: string;
  /** Absolute URL, without its fragment. */
  url: string;
  /** From the link's `#sha256=` fragment, when it has one. */
  sha256?: string;
}

/** Index pages of big projects (every release's files) run to megabytes. */
const PAGE_MAX_BYTES = 64 * 1024 * 1024;
export const INDEX_IDLE_MS = 30_000;

/** The files the index lists for `normalizedName`; `[]` when it does not know the project (404). */
export async function indexFiles(index: string, normalizedName: string): Promise<IndexFile[]> {
  const pageUrl = `${index.replace(/\/+$/, '')}/${encodeURIComponent(normalizedName)}/`;
  const page = await httpGet(pageUrl, { maxBytes: PAGE_MAX_BYTES, idleMs: INDEX_IDLE_MS, accept: 'text/html' });
  return page === undefined ? [] : parseIndexPage(page.body.toString('utf8'), page.url);
}

/** The links of a simple index page; relative links resolve against `pageUrl`. */
export function parseIndexPage(html: string, pageUrl: string): IndexFile[] {
  const files: IndexFile[] = [];
  for (const match of html.matchAll(/<a\s[^>]*?href\s*=\s*(?:"([^"]*)"|'([^']*)')[^>]*>([^<]*)<\/a>/gi)) {
    const href = decodeEntities(match[1] ?? match[2] ?? '');
    let url: URL;
    try {
      url = new URL(href, pageUrl);
    } catch {
      continue; // not a URL: not a file link
    }
    const sha256 = /(?:^|&)sha256=([0-9a-fA-F]{64})(?:&|$)/.exec(url.hash.slice(1))?.[1]?.toLowerCase();
    url.hash = '';
    const text = decodeEntities(match[3]!).trim();
    const fileName = text !== '' ? text : decodeURIComponent(url.pathname.split('/').pop() ?? '');
    files.push({ fileName, url: url.href, ...(sha256 !== undefined ? { sha256 } : {}) });
  }
  return files;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCodePoint(parseInt(code, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export { redactedUrl };
