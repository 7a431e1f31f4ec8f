/**
 * Server settings from config/default.yaml, then an optional config file, then GITFUNC_*
 * environment variables, then CLI flags (CONTRACT section 8b); validated once, then frozen.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GitfuncError } from '../errors.js';
import {
  emptyMerge,
  ENV_SETTINGS,
  envLayer,
  FLAG_SETTINGS,
  mergeLayer,
  nested,
  parseFlags,
  readSettingsFile,
  type MergedSettings,
} from './setting-sources.js';
import { pushRepoDir } from './push-repo-dir.js';
import { redactUrl, type Settings } from './settings.js';
import { settingsErrors } from './validate-settings.js';

/** How the shipped defaults are named as a setting's source. */
const DEFAULTS_SOURCE = 'config/default.yaml';

export interface LoadSettingsOptions {
  /** The arguments after the subcommand, e.g. `['--port', '0']`. */
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Relative paths (local repo.url, dataDir, config files) resolve against it. */
  cwd: string;
  /** An extra config file, used when neither --config nor GITFUNC_CONFIG names one. */
  configFile?: string;
  /** Accept positional arguments in argv (they are ignored here). Default false: an error. */
  allowPositionals?: boolean;
  /**
   * `serve`: stop at once when no source sets repo.url and its default folder does not exist
   * (an installed gitfunc run outside a checkout). Default false: `check` takes its folder as an argument.
   */
  requireRepo?: boolean;
  /** A command's own defaults (`gitfunc dev`'s), read over config/default.yaml and under every other source. */
  commandDefaults?: { label: string; values: Record<string, unknown> };
  /** Settings a command's arguments fix (`gitfunc dev DIR`'s repo.url), read over every other source. */
  commandSettings?: { label: string; values: Record<string, unknown> };
}

/** Where config/default.yaml is shipped: the folder holding gitfunc's package.json. */
export function packageRoot(): string {
  // From src/config/ under tsx and from dist/config/ after tsc alike.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new GitfuncError('CONFIG_INVALID', 'cannot find the gitfunc package root (package.json)', {});
    dir = parent;
  }
  return dir;
}

/** The path of the shipped defaults. */
export function defaultSettingsFile(): string {
  return path.join(packageRoot(), 'config', 'default.yaml');
}

/** Loads, merges and validates the settings; throws GitfuncError('CONFIG_INVALID') naming the setting and source. */
export function loadSettings(options: LoadSettingsOptions): Settings {
  const flags = parseFlags(options.argv, options.allowPositionals ?? false);
  const merged = emptyMerge();

  mergeLayer(merged, readSettingsFile(defaultSettingsFile(), DEFAULTS_SOURCE), DEFAULTS_SOURCE);
  if (options.commandDefaults) mergeLayer(merged, options.commandDefaults.values, options.commandDefaults.label);

  const configFile = flags.config ?? nonEmpty(options.env.GITFUNC_CONFIG) ?? options.configFile;
  if (configFile !== undefined) {
    const via = flags.config !== undefined ? '--config' : nonEmpty(options.env.GITFUNC_CONFIG) !== undefined ? 'GITFUNC_CONFIG' : 'configFile';
    const label = `${configFile} (${via})`;
    mergeLayer(merged, readSettingsFile(path.resolve(options.cwd, configFile), label), configFile);
  }
  for (const { name, setting, value } of envLayer(options.env)) mergeLayer(merged, nested(setting, value), name);
  for (const { flag, setting, value } of flags.settings) mergeLayer(merged, nested(setting, value), flag);
  if (options.commandSettings) mergeLayer(merged, options.commandSettings.values, options.commandSettings.label);

  const sourceOf = (setting: string): string => originOf(merged, setting);
  const errors = settingsErrors(merged.values, sourceOf);
  if (errors.length > 0) throw new GitfuncError('CONFIG_INVALID', errors.join('\n'), { errors });

  // The schema has checked every field; the cast states what it guarantees.
  const settings = merged.values as unknown as Settings;
  const dataDir = path.resolve(options.cwd, settings.dataDir);
  const pushRemote = { ...settings.pushRemote, enabled: settings.pushRemote.enabled || settings.pushRemote.token !== undefined };
  if (pushRemote.enabled && settings.redis.url !== '') refusePushWithReplicas(sourceOf);
  if (options.requireRepo === true && !pushRemote.enabled) requireGivenRepo(settings.repo.url, options.cwd, sourceOf('repo.url'));
  return deepFreeze({
    ...settings,
    repo: {
      ...settings.repo,
      url: pushRemote.enabled
        ? servedPushRepo(dataDir, pushRemote.token, sourceOf)
        : resolveRepoUrl(settings.repo.url, options.cwd, sourceOf('repo.url')),
    },
    dataDir,
    snapshot: {
      ...settings.snapshot,
      dir: settings.snapshot.dir === '' ? path.join(dataDir, 'cache') : path.resolve(options.cwd, settings.snapshot.dir),
    },
    envAllow: [...new Set(settings.envAllow)],
    pushRemote,
    network: {
      ...settings.network,
      ...(settings.network.caFile === undefined ? {} : { caFile: path.resolve(options.cwd, settings.network.caFile) }),
    },
    packages: {
      ...settings.packages,
      wheelhouse: settings.packages.wheelhouse.map((folder) => path.resolve(options.cwd, folder)),
      pyodidePackages: settings.packages.pyodidePackages === '' ? '' : path.resolve(options.cwd, settings.packages.pyodidePackages),
    },
  });
}

/**
 * With the push remote on, gitfunc serves what is pushed to it: the bare repository in the data
 * dir. A repo.url set anywhere but the defaults would be silently ignored, so it is an error.
 */
function servedPushRepo(dataDir: string, token: string | undefined, sourceOf: (setting: string) => string): string {
  if (token === undefined) {
    throw new GitfuncError('CONFIG_INVALID', `pushRemote.enabled (from ${sourceOf('pushRemote.enabled')}) needs a token: set GITFUNC_PUSH_TOKEN`, {
      setting: 'pushRemote.token',
    });
  }
  const source = sourceOf('repo.url');
  if (source !== DEFAULTS_SOURCE) {
    throw new GitfuncError(
      'CONFIG_INVALID',
      `repo.url (from ${source}) cannot be set while the push remote is on: gitfunc serves what is pushed to it`,
      { setting: 'repo.url' },
    );
  }
  return pushRepoDir(dataDir);
}

/**
 * `git push` to gitfunc writes one server's bare repository; replicas on one Redis each fetch
 * the served repository on their own, so they need a git server (and a webhook) they all reach.
 */
function refusePushWithReplicas(sourceOf: (setting: string) => string): never {
  throw new GitfuncError(
    'CONFIG_INVALID',
    `the push remote (pushRemote, from ${sourceOf('pushRemote.token')}) serves one server's own repository and cannot be used with redis.url (from ${sourceOf('redis.url')}): replicas fetch from a git server they all reach; reload them with a webhook or POST /api/v1/reload`,
    { setting: 'pushRemote.enabled' },
  );
}

/**
 * The default repo.url (./functions.example) only exists in a checkout; anywhere else a server
 * left with it would start, then fail its first fetch. Say instead how to name the repository.
 */
function requireGivenRepo(url: string, cwd: string, source: string): void {
  if (source !== DEFAULTS_SOURCE || existsSync(path.resolve(cwd, url))) return;
  const flag = Object.entries(FLAG_SETTINGS).find(([, override]) => override.setting === 'repo.url')?.[0];
  const env = Object.entries(ENV_SETTINGS).find(([, override]) => override.setting === 'repo.url')?.[0];
  throw new GitfuncError(
    'REPO_NOT_GIVEN',
    `no functions repository given and the default ${url} is not in ${cwd}: pass --${flag} URL|PATH or set ${env}`,
    { setting: 'repo.url' },
  );
}

/** The source that set `setting`, or that set its nearest parent. */
function originOf(merged: MergedSettings, setting: string): string {
  for (let name = setting; name !== ''; name = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : '') {
    const origin = merged.origins.get(name);
    if (origin !== undefined) return origin;
  }
  return DEFAULTS_SOURCE;
}

/** http(s) URLs stay as given; file: URLs and local paths become absolute directories. */
function resolveRepoUrl(url: string, cwd: string, source: string): string {
  if (/^https?:\/\//i.test(url)) return url;
  if (/^file:\/\//i.test(url)) return fileURLToPath(url);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/\\\s]+@[^/\\\s:]+:/.test(url)) {
    throw new GitfuncError(
      'CONFIG_INVALID',
      `invalid setting repo.url (from ${source}): must be an http(s) URL or a local directory, got '${redactUrl(url)}'`,
      { setting: 'repo.url' },
    );
  }
  return path.resolve(cwd, url);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
