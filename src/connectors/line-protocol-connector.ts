/**
 * The `datakit` and `dataway` connector types (CONTRACT section 12): line protocol POSTed to
 * `/v1/write/<category>` and DQL to `/v1/query/raw`, as DFF's DataKit and DataWay clients do.
 * The line protocol is built in Python (runtime/python/gitfunc_conn_datakit.py), where a value's
 * type (int, float, bool) is still known; here it is only sent. A DataWay's token stays here.
 *
 * The connector is declared by the team in the manifest, so it is trusted: its host is not
 * checked against the egress rules that scripts' own sockets pass (network/).
 */
import type http from 'node:http';
import { gzipSync } from 'node:zlib';
import { ConnectorDriverError, type ConnectorClient, type ConnectorFactory, type ConnectorOperation } from './connector-client.js';
import { choiceSetting, integerSetting, textSetting } from './connector-settings.js';
import { keepAliveAgent, post, type PostAnswer } from './http-post.js';

type Kind = 'datakit' | 'dataway';

interface LineProtocolSettings {
  kind: Kind;
  /** `protocol://host:port`, no path. */
  origin: string;
  protocol: 'http' | 'https';
  /** DataKit: the `input` its writes are recorded under. */
  source: string | undefined;
  /** DataWay: the workspace token. */
  token: string | undefined;
}

/** DFF's defaults: DataKit listens on 9529, DataWay on 9528; DFF's SDK names itself as DataKit's input. */
const DEFAULT_PORT: Record<Kind, number> = { datakit: 9529, dataway: 9528 };
const DEFAULT_SOURCE = 'datakit-python-sdk';
/** DataWay bodies over this size are sent gzipped, as DFF's DataWay client does. */
const DATAWAY_GZIP_MIN_BYTES = 20 * 1024;
/** A category is one path segment (metric, logging, object, custom_object, keyevent...). */
const CATEGORY = /^[A-Za-z0-9_-]+$/;

function readSettings(kind: Kind, config: Readonly<Record<string, unknown>>): LineProtocolSettings {
  const protocol = choiceSetting(config, kind, 'protocol', ['http', 'https'] as const, 'http');
  const host = textSetting(config, kind, 'host', '127.0.0.1');
  const port = integerSetting(config, kind, 'port', 1, 65535, DEFAULT_PORT[kind]);
  return {
    kind,
    origin: `${protocol}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    protocol,
    source: kind === 'datakit' ? textSetting(config, kind, 'source', DEFAULT_SOURCE) : undefined,
    token: kind === 'dataway' ? textSetting(config, kind, 'token') : undefined,
  };
}

class LineProtocolConnector implements ConnectorClient {
  private readonly agent: http.Agent;

  constructor(private readonly settings: LineProtocolSettings) {
    this.agent = keepAliveAgent(settings.protocol);
  }

  async run(operation: ConnectorOperation): Promise<unknown> {
    if (operation.op === 'write') return this.write(operation.args, operation.timeoutMs);
    if (operation.op === 'query') return this.query(operation.args, operation.timeoutMs);
    throw new ConnectorDriverError(`${this.settings.kind}: no operation '${operation.op}'`, null);
  }

  /** args: [category, line protocol body, DataKit input or null]. */
  private async write(args: readonly unknown[], timeoutMs: number): Promise<[number, unknown]> {
    const [category, body, source] = args;
    if (typeof category !== 'string' || !CATEGORY.test(category)) throw new ConnectorDriverError(`${this.settings.kind}: a category is letters, digits, _ or -`, null);
    if (typeof body !== 'string') throw new ConnectorDriverError(`${this.settings.kind}: the line protocol body must be text`, null);
    const query = new URLSearchParams();
    if (this.settings.kind === 'datakit') query.set('input', typeof source === 'string' && source !== '' ? source : (this.settings.source ?? DEFAULT_SOURCE));
    return this.send(`/v1/write/${category}`, query, Buffer.from(body, 'utf8'), 'text/plain', timeoutMs);
  }

  /** args: [the JSON body of /v1/query/raw, built by the helper as DFF does]. */
  private async query(args: readonly unknown[], timeoutMs: number): Promise<[number, unknown]> {
    const [request] = args;
    if (typeof request !== 'object' || request === null || Array.isArray(request)) throw new ConnectorDriverError(`${this.settings.kind}: a query is a JSON object`, null);
    const query = new URLSearchParams();
    let body = request as Record<string, unknown>;
    if (this.settings.kind === 'dataway') {
      // DFF's DataWay queries a workspace by its token, sent in the body as well as the URL.
      if (this.settings.token === undefined) throw new ConnectorDriverError('No Workspace Token specified.', null);
      body = { ...body, token: this.settings.token };
    }
    return this.send('/v1/query/raw', query, Buffer.from(JSON.stringify(body), 'utf8'), 'application/json', timeoutMs);
  }

  /** POSTs and answers `[status, JSON or text]`; a status of 400 or more raises, as DFF's clients do. */
  private async send(path: string, query: URLSearchParams, body: Buffer, contentType: string, timeoutMs: number): Promise<[number, unknown]> {
    if (this.settings.token !== undefined) query.set('token', this.settings.token);
    const url = new URL(`${this.settings.origin}${path}?${query.toString()}`);
    const headers: Record<string, string> = { 'Content-Type': contentType };
    if (this.settings.kind === 'dataway' && body.length > DATAWAY_GZIP_MIN_BYTES) {
      body = gzipSync(body);
      headers['Content-Encoding'] = 'gzip';
    }
    // The URL in messages never has its query: a DataWay token is there.
    const shown = `POST ${this.settings.origin}${path}`;
    let answer: PostAnswer;
    try {
      answer = await post(this.agent, url, body, headers, timeoutMs);
    } catch (error) {
      throw requestError(shown, error, timeoutMs);
    }
    if (answer.status >= 400) throw new ConnectorDriverError(`${shown} failed. Status Code: ${answer.status}, Response: ${answer.text}`, answer.status);
    return [answer.status, parsedOrText(answer.text)];
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

/** DFF returns the answer's JSON when it is JSON, else its text. */
function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text; // not JSON: DataKit answered text
  }
}

function requestError(shown: string, error: unknown, timeoutMs: number): ConnectorDriverError {
  const failure = error as Error & { code?: unknown };
  if (failure.name === 'AbortError') return new ConnectorDriverError(`${shown} got no answer before the call's deadline (${timeoutMs} ms)`, 'TIMEOUT');
  const code = typeof failure.code === 'string' ? failure.code : null;
  return new ConnectorDriverError(`${shown} failed. Error: ${failure.message}`, code);
}

/** The `datakit` connector type: `config` {host, port (9529), protocol (http|https), source?}. */
export const createDatakitConnector: ConnectorFactory = (config) => new LineProtocolConnector(readSettings('datakit', config));

/** The `dataway` connector type: `config` {host, port (9528), protocol (http|https), token}. */
export const createDatawayConnector: ConnectorFactory = (config) => new LineProtocolConnector(readSettings('dataway', config));
