/**
 * Resolves `${NAME}` references of the manifest from the server's environment, for the names the
 * operator allows only (GITFUNC_ENV_ALLOW), never GITFUNC_* (CONTRACT section 1). Problems name
 * the manifest line, never a value.
 */
import type { Problem } from '../errors.js';
import { MANIFEST_FILE, type ApiAuth, type ConnectorEntry, type Manifest, type Position } from './types.js';

/** `serve`: an unset allowed reference is an error. `check`: a warning (CI has no secrets). */
export type ResolveMode = 'serve' | 'check';

/** Resolved values, their problems, and the substituted values to mask in logs. */
export interface ResolvedEnv {
  values: Record<string, string>;
  problems: Problem[];
  /** Every non-empty value read from the environment, to mask in logs and tracebacks. */
  secrets: string[];
}

/** `${NAME}`; `$${...}` stays literal as `${...}`. */
const REFERENCE = /\$(\$?)\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Resolver {
  allow: ReadonlySet<string>;
  processEnv: NodeJS.ProcessEnv;
  mode: ResolveMode;
  problems: Problem[];
  secrets: Set<string>;
}

/** Resolves the manifest's `env` section. `positions` are `Manifest.envPositions`. */
export function resolveEnv(
  env: Readonly<Record<string, string>>,
  positions: Readonly<Record<string, Position>>,
  allow: readonly string[],
  processEnv: NodeJS.ProcessEnv,
  mode: ResolveMode,
): ResolvedEnv {
  const resolver = newResolver(allow, processEnv, mode);
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    values[key] = resolveValue(value, `env ${key}`, positions[key] ?? { line: 1, col: 1 }, resolver);
  }
  return { values, problems: resolver.problems, secrets: [...resolver.secrets] };
}

/** Resolves the secret fields of `apiAuths` (fixedField values, httpBasic and httpDigest passwords). */
export function resolveApiAuths(
  apiAuths: readonly ApiAuth[],
  allow: readonly string[],
  processEnv: NodeJS.ProcessEnv,
  mode: ResolveMode,
): { apiAuths: ApiAuth[]; problems: Problem[]; secrets: string[] } {
  const resolver = newResolver(allow, processEnv, mode);
  const resolved = apiAuths.map((auth): ApiAuth => {
    const label = `apiAuth ${auth.id}`;
    if (auth.type === 'fixedField') {
      const fields = auth.fields.map((f) => ({ ...f, value: resolveValue(f.value, label, f.position, resolver) }));
      return { ...auth, fields };
    }
    if (auth.type === 'func') return auth;
    const users = auth.users.map((u) => ({ ...u, password: resolveValue(u.password, label, u.position, resolver) }));
    return { ...auth, users };
  });
  return { apiAuths: resolved, problems: resolver.problems, secrets: [...resolver.secrets] };
}

/** Resolves every string of each connector's `config` (host, user, password, token...). */
export function resolveConnectors(
  connectors: readonly ConnectorEntry[],
  allow: readonly string[],
  processEnv: NodeJS.ProcessEnv,
  mode: ResolveMode,
): { connectors: ConnectorEntry[]; problems: Problem[]; secrets: string[] } {
  const resolver = newResolver(allow, processEnv, mode);
  const resolved = connectors.map((connector): ConnectorEntry => {
    const config: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(connector.config)) {
      const at = connector.configPositions[field] ?? connector.position;
      config[field] = typeof value === 'string' ? resolveValue(value, `connector ${connector.id}`, at, resolver) : value;
    }
    return { ...connector, config };
  });
  return { connectors: resolved, problems: resolver.problems, secrets: [...resolver.secrets] };
}

/** Resolves every `${NAME}` of a manifest: env values, API auth secrets and connector settings. */
export function resolveManifest(
  manifest: Manifest,
  allow: readonly string[],
  processEnv: NodeJS.ProcessEnv,
  mode: ResolveMode,
): { env: Record<string, string>; apiAuths: ApiAuth[]; connectors: ConnectorEntry[]; problems: Problem[]; secrets: string[] } {
  const env = resolveEnv(manifest.env, manifest.envPositions, allow, processEnv, mode);
  const auths = resolveApiAuths(manifest.apiAuths, allow, processEnv, mode);
  const connectors = resolveConnectors(manifest.connectors, allow, processEnv, mode);
  return {
    env: env.values,
    apiAuths: auths.apiAuths,
    connectors: connectors.connectors,
    problems: [...env.problems, ...auths.problems, ...connectors.problems].sort((a, b) => a.line - b.line || a.col - b.col),
    secrets: [...new Set([...env.secrets, ...auths.secrets, ...connectors.secrets])],
  };
}

function newResolver(allow: readonly string[], processEnv: NodeJS.ProcessEnv, mode: ResolveMode): Resolver {
  return { allow: new Set(allow), processEnv, mode, problems: [], secrets: new Set() };
}

function resolveValue(value: string, label: string, at: Position, resolver: Resolver): string {
  const report = (severity: Problem['severity'], message: string): void => {
    resolver.problems.push({ file: MANIFEST_FILE, ...at, severity, message: `${label}: ${message}` });
  };
  return value.replace(REFERENCE, (whole, escaped: string, name: string) => {
    if (escaped) return whole.slice(1);
    if (!NAME.test(name)) {
      report('error', `'\${${name}}' is not a valid reference (write \${NAME}: letters, digits and '_'; $\${ for a literal)`);
      return '';
    }
    if (name.startsWith('GITFUNC_')) {
      report('error', `\${${name}} can never be read: GITFUNC_* names are gitfunc's own settings`);
      return '';
    }
    if (!resolver.allow.has(name)) {
      report('error', `\${${name}} is not in GITFUNC_ENV_ALLOW`);
      return '';
    }
    const resolved = resolver.processEnv[name];
    if (resolved === undefined || resolved === '') {
      const state = resolved === undefined ? 'not set' : 'empty';
      if (resolver.mode === 'serve') report('error', `\${${name}} is ${state} in the server's environment`);
      else report('warning', `\${${name}} is ${state} here (it must be set where this revision is served)`);
      return '';
    }
    resolver.secrets.add(resolved);
    return resolved;
  });
}
