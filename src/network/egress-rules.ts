/**
 * The operator's egress rules (CONTRACT section 10): `GITFUNC_NETWORK_ALLOW` and
 * `GITFUNC_NETWORK_DENY`, each a comma list of `host`, `*.domain`, `*`, an IP address or a CIDR,
 * each with an optional `:port` (`[v6]:port` for an IPv6 address with a port). A connection is
 * allowed when an allow rule matches it and no deny rule does. Rules are matched against the
 * address actually connected to and, when the script connected by name, that name.
 */
import { BlockList, isIP } from 'node:net';
import { GitfuncError } from '../errors.js';

/** What a script connects to: the resolved address, and the name it asked for, if any. */
export interface EgressTarget {
  address: string;
  port: number;
  name?: string;
}

interface Rule {
  /** As the operator wrote it: named in a refusal. */
  text: string;
  port?: number;
  matches(target: EgressTarget): boolean;
}

/** A rule the operator wrote that cannot be read: the server refuses to start with it. */
export class EgressRuleError extends GitfuncError {
  constructor(rule: string, reason: string) {
    super('CONFIG_INVALID', `network rule '${rule}': ${reason}`, { rule });
    this.name = 'EgressRuleError';
  }
}

function splitPort(text: string): { target: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { target: bracketed[1]!, ...(bracketed[2] === undefined ? {} : { port: portOf(text, bracketed[2]) }) };
  const slash = text.indexOf('/');
  if (slash >= 0) {
    // CIDR: a port may follow the prefix length (`10.0.0.0/8:5432`).
    const [length, port] = text.slice(slash + 1).split(':');
    return { target: `${text.slice(0, slash)}/${length}`, ...(port === undefined ? {} : { port: portOf(text, port) }) };
  }
  // A bare IPv6 address has several colons and no port.
  if (isIP(text) === 6) return { target: text };
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { target: text };
  return { target: text.slice(0, colon), port: portOf(text, text.slice(colon + 1)) };
}

function portOf(rule: string, text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new EgressRuleError(rule, `'${text}' is not a port (1-65535)`);
  return port;
}

function addressRule(rule: string, target: string): (t: EgressTarget) => boolean {
  const [address, lengthText] = target.split('/');
  const family = isIP(address!);
  if (family === 0) throw new EgressRuleError(rule, `'${address}' is not an IP address`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const length = lengthText === undefined ? (family === 4 ? 32 : 128) : Number(lengthText);
  if (!Number.isInteger(length) || length < 0 || length > (family === 4 ? 32 : 128)) throw new EgressRuleError(rule, `'/${lengthText}' is not a prefix length`);
  const list = new BlockList();
  list.addSubnet(address!, length, type);
  return (t) => {
    const targetFamily = isIP(t.address);
    return targetFamily !== 0 && list.check(t.address, targetFamily === 4 ? 'ipv4' : 'ipv6');
  };
}

const HOST_NAME = /^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

function nameRule(rule: string, target: string): (t: EgressTarget) => boolean {
  const name = target.toLowerCase();
  if (!HOST_NAME.test(name)) throw new EgressRuleError(rule, `'${target}' is neither a host name, '*.domain', an IP address nor a CIDR`);
  if (name.startsWith('*.')) {
    const suffix = name.slice(1); // '.example.com': subdomains only, not example.com itself
    return (t) => t.name !== undefined && t.name.toLowerCase().endsWith(suffix);
  }
  // A name rule also matches an IP address written as the name connected to.
  return (t) => t.name !== undefined && t.name.toLowerCase() === name;
}

function parseRule(text: string): Rule {
  const { target, port } = splitPort(text);
  let matchesTarget: (t: EgressTarget) => boolean;
  if (target === '*') matchesTarget = () => true;
  else if (target.includes('/') || isIP(target) !== 0) matchesTarget = addressRule(text, target);
  else matchesTarget = nameRule(text, target);
  return {
    text,
    ...(port === undefined ? {} : { port }),
    matches: (t) => (port === undefined || port === t.port) && matchesTarget(t),
  };
}

/** Rules as the settings list them; blanks ignored. Throws EgressRuleError on a rule it cannot read. */
function parseRules(list: readonly string[]): Rule[] {
  return list
    .map((rule) => rule.trim())
    .filter((rule) => rule !== '')
    .map(parseRule);
}

/** Why a connection is refused, for the script's PermissionError. */
export type EgressVerdict = { allowed: true } | { allowed: false; reason: string };

/** The allow and deny lists, checked at each connect. */
export class EgressPolicy {
  private readonly allow: Rule[];
  private readonly deny: Rule[];

  constructor(allow: readonly string[], deny: readonly string[]) {
    this.allow = parseRules(allow);
    this.deny = parseRules(deny);
  }

  check(target: EgressTarget): EgressVerdict {
    const denied = this.deny.find((rule) => rule.matches(target));
    if (denied !== undefined) return { allowed: false, reason: `denied by network rule '${denied.text}' (GITFUNC_NETWORK_DENY)` };
    if (this.allow.some((rule) => rule.matches(target))) return { allowed: true };
    return { allowed: false, reason: 'not allowed by any network rule (GITFUNC_NETWORK_ALLOW)' };
  }
}
