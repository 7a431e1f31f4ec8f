// A DataKit (or DataWay) stand-in on 127.0.0.1: records every request, parses the line protocol
// it is sent back into points, and answers as DataKit does (writes: 200 and JSON; a point of
// measurement `rejected` or a line it cannot read: 400 and DataKit's error JSON; `/v1/query/raw`: a DQL result).
import { createServer, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { listenOnLoopback, portOf } from './loopback.js';

/** A line protocol field value: `1i` as a bigint, `1.5` a number, `"x"` a string, booleans, arrays as their text. */
export type FieldValue = bigint | number | string | boolean;

export interface ParsedPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  timestamp: bigint;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** The body as sent, gunzipped when it was gzipped. */
  body: string;
}

/** A DQL result like DataKit's: one series of one row. */
export const QUERY_ANSWER = {
  content: [{ series: [{ name: 'cpu', columns: ['time', 'usage', 'tags'], values: [[1700000000000, 12.5, 'a column named tags']], tags: { host: 'web1' } }] }],
};

/** Splits `text` at `separator` where it is neither escaped nor inside a quoted string (which may hold a newline) or an array. */
function splitUnescaped(text: string, separator: string, limit = Infinity): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let depth = 0; // inside an array field value
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '\\' && i + 1 < text.length) {
      current += char + text[i + 1];
      i++;
    } else if (char === '"') {
      quoted = !quoted;
      current += char;
    } else if (!quoted && (char === '[' || char === ']')) {
      depth += char === '[' ? 1 : -1;
      current += char;
    } else if (char === separator && !quoted && depth === 0 && parts.length < limit - 1) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

const unescape = (text: string): string => text.replace(/\\(.)/g, '$1');

function fieldValue(raw: string): FieldValue {
  if (raw.startsWith('"')) return unescape(raw.slice(1, -1));
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^-?\d+i$/.test(raw)) return BigInt(raw.slice(0, -1));
  if (raw.startsWith('[')) return raw;
  return Number(raw);
}

/** One line of line protocol as its point. */
export function parseLine(line: string): ParsedPoint {
  const [head = '', fieldSet = '', timestamp = ''] = splitUnescaped(line, ' ');
  const [measurement = '', ...tagPairs] = splitUnescaped(head, ',');
  const pairs = (items: string[]): [string, string][] => items.map((item) => splitUnescaped(item, '=', 2) as [string, string]);
  return {
    measurement: unescape(measurement),
    tags: Object.fromEntries(pairs(tagPairs).map(([k, v]) => [unescape(k), unescape(v)])),
    fields: Object.fromEntries(pairs(splitUnescaped(fieldSet, ',')).map(([k, v]) => [unescape(k), fieldValue(v)])),
    timestamp: BigInt(timestamp),
  };
}

/** Starts a stand-in, closed when `t` ends. */
export async function startDatakitStandIn(t: { teardown(fn: () => unknown): void }) {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const raw = Buffer.concat(chunks);
      const body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body });
      const reply = (status: number, answer: unknown): void => {
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
      };
      if (url.pathname === '/v1/query/raw') return reply(200, QUERY_ANSWER);
      if (!url.pathname.startsWith('/v1/write/')) return reply(404, { error_code: 'datakit.notFound', message: 'no such path' });
      let points: ParsedPoint[];
      try {
        points = splitUnescaped(body, '\n').map(parseLine);
      } catch (error) {
        return reply(400, { error_code: 'datakit.invalidLinePoint', message: String(error) });
      }
      if (points.some((point) => point.measurement === 'rejected')) return reply(400, { error_code: 'datakit.invalidLinePoint', message: 'invalid line protocol' });
      reply(200, {});
    });
  });
  await listenOnLoopback(t, server);
  return {
    port: portOf(server),
    requests,
    /** The points written to `category`, in the order received. */
    points(category: string): ParsedPoint[] {
      return requests.filter((r) => r.path === `/v1/write/${category}`).flatMap((r) => splitUnescaped(r.body, '\n').map(parseLine));
    },
  };
}
