import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Polka, Request } from 'polka';
import type { Logger } from '../log.js';
import type { ReloadRequest, ReloadTrigger } from '../revision/reload-trigger.js';
import { detectProvider, eventOf, type WebhookProvider } from '../webhook/providers.js';
import { pushedRefs, pushTargetsServedRef } from '../webhook/push-payload.js';
import { ApiError, ApiErrors } from './api-error.js';
import { jsonErrorReason, readRawBody } from './request-body.js';
import { sendApiError, sendBody, startScope } from './respond.js';

export interface WebhookApiDeps {
  /** The endpoint, `webhook.path`. */
  path: string;
  /** Without it every webhook is refused, unless `allowUnsigned`. */
  secret: string | undefined;
  /** Dangerous: accept unsigned webhooks while no secret is set. */
  allowUnsigned: boolean;
  maxBodyBytes: number;
  /** The served ref (repo.ref): pushes to other refs are ignored. */
  servedRef: string;
  trigger: ReloadTrigger;
  logger: Logger;
}

/** What a webhook is logged as: never the body, never the secret. */
interface WebhookLog {
  provider?: string;
  event?: string;
  ref?: string;
  outcome: 'accepted' | 'ignored' | 'ping' | 'refused';
  reason?: string;
}

/** The answer to a verified webhook, and the reload it asks for, if any. */
interface WebhookAnswer {
  status: 200 | 202;
  data: Record<string, unknown>;
  reload?: ReloadRequest;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * `POST <webhook.path>`: push webhooks from GitHub, GitLab, Gitea/Forgejo, Bitbucket or any
 * sender signing with `X-Gitfunc-Signature`. The body is capped before it is read and verified
 * on its raw bytes before it is parsed; a verified push to the served ref answers 202 and then
 * asks for a reload, passing the pushed commit only as a hint. No CORS headers.
 */
export function registerWebhookApi(app: Polka, deps: WebhookApiDeps): void {
  app.post(deps.path, async (req: Request, res: ServerResponse) => {
    const scope = startScope(req);
    const log: WebhookLog = { outcome: 'refused' };
    try {
      const answer = await answerWebhook(req, deps, log);
      sendBody(res, scope, answer.status, JSON_TYPE, JSON.stringify({ ok: true, error: answer.status, message: '', data: answer.data }));
      // After the answer: the sender's timeout never waits for a fetch (and request() never does either).
      if (answer.reload) deps.trigger.request(answer.reload);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      log.reason ??= error.message;
      sendApiError(res, scope, error);
    } finally {
      deps.logger[log.outcome === 'refused' ? 'warn' : 'info']({ webhook: log, traceId: scope.traceId }, `webhook ${log.outcome}`);
    }
  });
}

/** Checks, verifies and reads one webhook; `log` is filled in as facts become known. */
async function answerWebhook(req: Request, deps: WebhookApiDeps, log: WebhookLog): Promise<WebhookAnswer> {
  const provider = detectProvider(req.headers);
  log.provider = provider?.name;
  if (deps.secret === undefined && !deps.allowUnsigned) {
    throw new ApiError(ApiErrors.webhookDisabled, 'Webhooks are off: no webhook secret is configured (GITFUNC_WEBHOOK_SECRET)');
  }
  // Refused before a byte is read when Content-Length says too much; counted while reading otherwise.
  const raw = await readRawBody(req, deps.maxBodyBytes);
  if (provider === undefined) {
    throw unauthorized('No webhook signature header (X-Hub-Signature-256, X-Gitlab-Token, X-Gitea-Signature, X-Hub-Signature, X-Gitfunc-Signature)');
  }
  if (deps.secret !== undefined && !provider.verify(raw, req.headers, deps.secret)) {
    throw unauthorized(`The ${provider.name} webhook signature is missing or wrong`);
  }
  if (deps.secret === undefined) log.reason = 'unsigned: webhook.allowUnsigned is on';

  const event = eventOf(provider, req.headers);
  log.event = event;
  if (event === undefined) {
    throw new ApiError(ApiErrors.badRequest, `The ${provider.name} webhook names no event (${provider.eventHeaders.join(', ')})`);
  }
  if (provider.pingEvents.includes(event)) {
    log.outcome = 'ping';
    return { status: 200, data: { provider: provider.name, event, pong: true } };
  }
  if (!provider.pushEvents.includes(event)) {
    log.outcome = 'ignored';
    log.reason = 'not a push event';
    return { status: 200, data: { provider: provider.name, event, ignored: `event '${event}' is not a push` } };
  }
  return answerPush(provider, parsePayload(req.headers, raw), deps, log);
}

/** A verified push: reload when it moved the served ref. */
function answerPush(provider: WebhookProvider, payload: unknown, deps: WebhookApiDeps, log: WebhookLog): WebhookAnswer {
  const refs = pushedRefs(provider.name, payload);
  if (refs.length === 0) throw new ApiError(ApiErrors.badRequest, 'The push payload names no ref');
  const served = refs.find((pushed) => pushTargetsServedRef(pushed.ref, deps.servedRef));
  const base = { provider: provider.name, event: log.event };
  if (served === undefined) {
    log.outcome = 'ignored';
    log.ref = refs.map((pushed) => pushed.ref).join(',');
    log.reason = `not the served ref ${deps.servedRef}`;
    return { status: 202, data: { ...base, ignored: `push to ${log.ref}; serving ${deps.servedRef}` } };
  }
  log.ref = served.ref;
  if (served.deleted) {
    log.outcome = 'ignored';
    log.reason = 'the push deleted the served ref';
    return { status: 202, data: { ...base, ignored: `push deleted ${served.ref}; still serving the last commit` } };
  }
  log.outcome = 'accepted';
  return {
    status: 202,
    data: { ...base, ref: served.ref, reload: 'requested' },
    reload: { source: 'webhook', ...(served.after !== undefined ? { commitHint: served.after } : {}) },
  };
}

/** JSON, or GitHub's form encoding (`payload=<json>`). Parsed only after the signature checked out. */
function parsePayload(headers: IncomingHttpHeaders, raw: Buffer): unknown {
  const type = (headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  const text = type === 'application/x-www-form-urlencoded' ? new URLSearchParams(raw.toString('utf8')).get('payload') ?? '' : raw.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(ApiErrors.badRequest, `Invalid JSON webhook payload: ${jsonErrorReason(error)}`);
  }
}

function unauthorized(message: string): ApiError {
  return new ApiError(ApiErrors.authFailed, message);
}
