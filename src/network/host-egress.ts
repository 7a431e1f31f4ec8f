/**
 * The egress rules applied to a host the server itself connects to for scripts (a connector's
 * database): every address the name resolves to must be allowed, the name too.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { EgressPolicy } from './egress-rules.js';

/** Why connecting to `host:port` is refused, or undefined when every address it has is allowed. */
export async function egressRefusal(policy: EgressPolicy, host: string, port: number): Promise<string | undefined> {
  const literal = isIP(host) !== 0;
  let addresses: string[];
  try {
    addresses = literal ? [host] : (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch {
    return undefined; // the driver's own connect reports the unknown name
  }
  for (const address of addresses) {
    const verdict = policy.check({ address, port, ...(literal ? {} : { name: host }) });
    if (!verdict.allowed) return `connection to ${host} port ${port} refused: ${verdict.reason}`;
  }
  return undefined;
}
