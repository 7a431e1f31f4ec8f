/**
 * The webhook senders gitfunc understands, as one table: how each is recognised, how its
 * signature is checked, and which of its events are pushes or pings.
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  headerValue,
  verifyBitbucketSignature,
  verifyGenericSignature,
  verifyGiteaSignature,
  verifyGithubSignature,
  verifyGitlabToken,
} from './signatures.js';

export type ProviderName = 'github' | 'gitlab' | 'gitea' | 'bitbucket' | 'generic';

export interface WebhookProvider {
  name: ProviderName;
  /** Headers whose presence names this provider (checked in table order). */
  markers: readonly string[];
  /** Headers carrying the event name, first present wins. */
  eventHeaders: readonly string[];
  /** The event when the sender names none (only the generic sender may omit it). */
  defaultEvent?: string;
  pushEvents: readonly string[];
  pingEvents: readonly string[];
  verify(raw: Buffer, headers: IncomingHttpHeaders, secret: string): boolean;
}

// Order matters: Gitea and Forgejo also send GitHub's headers, and Bitbucket uses X-Hub-Signature.
const PROVIDERS: readonly WebhookProvider[] = Object.freeze([
  {
    name: 'gitea',
    markers: ['x-forgejo-event', 'x-gitea-event', 'x-forgejo-signature', 'x-gitea-signature'],
    eventHeaders: ['x-forgejo-event', 'x-gitea-event'],
    pushEvents: ['push'],
    pingEvents: [],
    verify: verifyGiteaSignature,
  },
  {
    name: 'gitlab',
    markers: ['x-gitlab-event', 'x-gitlab-token'],
    eventHeaders: ['x-gitlab-event'],
    pushEvents: ['Push Hook', 'Tag Push Hook'],
    pingEvents: [],
    verify: verifyGitlabToken,
  },
  {
    name: 'bitbucket',
    markers: ['x-event-key'],
    eventHeaders: ['x-event-key'],
    // Cloud sends repo:push, Data Center repo:refs_changed; diagnostics:ping is Data Center's "Test connection".
    pushEvents: ['repo:push', 'repo:refs_changed'],
    pingEvents: ['diagnostics:ping'],
    verify: verifyBitbucketSignature,
  },
  {
    name: 'github',
    markers: ['x-github-event', 'x-hub-signature-256'],
    eventHeaders: ['x-github-event'],
    pushEvents: ['push'],
    pingEvents: ['ping'],
    verify: verifyGithubSignature,
  },
  {
    name: 'generic',
    markers: ['x-gitfunc-signature', 'x-gitfunc-event'],
    eventHeaders: ['x-gitfunc-event'],
    defaultEvent: 'push',
    pushEvents: ['push'],
    pingEvents: ['ping'],
    verify: verifyGenericSignature,
  },
]);

/** The provider whose headers the request carries, or undefined for none. */
export function detectProvider(headers: IncomingHttpHeaders): WebhookProvider | undefined {
  return PROVIDERS.find((provider) => provider.markers.some((name) => headers[name] !== undefined));
}

/** The event the request names, e.g. 'push' or 'Push Hook'; undefined when it names none. */
export function eventOf(provider: WebhookProvider, headers: IncomingHttpHeaders): string | undefined {
  for (const name of provider.eventHeaders) {
    const value = headerValue(headers, name);
    if (value !== undefined) return value;
  }
  return provider.defaultEvent;
}
