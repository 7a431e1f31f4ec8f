/**
 * One HTTP POST of a connector to its server (DataKit, DataWay), over the connector's own
 * keep-alive agent, given up at the calling script's deadline.
 */
import http from 'node:http';
import https from 'node:https';

/** What a server answered. */
export interface PostAnswer {
  status: number;
  text: string;
}

/** An answer larger than this fails: it would travel to the script as one bridge answer. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** The agent a connector keeps its connections in (destroyed when the connector closes). */
export function keepAliveAgent(protocol: 'http' | 'https'): http.Agent {
  return protocol === 'https' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
}

/** POSTs `body` to `url`; rejects on a network failure, at `timeoutMs` (a TimeoutError) or on an answer too large. */
export function post(agent: http.Agent, url: URL, body: Buffer, headers: Record<string, string>, timeoutMs: number): Promise<PostAnswer> {
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise<PostAnswer>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...headers, 'Content-Length': String(body.length) },
        signal: AbortSignal.timeout(Math.max(1, timeoutMs)),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) res.destroy(new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
