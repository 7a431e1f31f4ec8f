/**
 * The `--help` text of the settings, built from their single sources of truth: the flag and
 * variable tables (setting-sources.ts), the schema's descriptions and config/default.yaml's
 * values, so the help cannot drift from what is parsed.
 */
import { defaultSettingsFile } from './load-settings.js';
import { ENV_SETTINGS, FLAG_SETTINGS, readSettingsFile } from './setting-sources.js';
import { settingsSchema } from './validate-settings.js';

type JsonSchema = Record<string, unknown>;

/** What a flag's value looks like, by the kind its text is read as. */
const PLACEHOLDERS = Object.freeze({ integer: 'N', number: 'N', list: 'A,B', pathList: 'DIR:DIR', string: 'TEXT' });

/** One setting as `--help` shows it. */
export interface SettingHelp {
  setting: string;
  /** The flag with a placeholder for its value, e.g. `--port N`. */
  flag?: string;
  env?: string;
  /** The shipped default, as text; undefined when there is none (secrets). */
  defaultValue?: string;
  description: string;
}

/** Every setting a flag or an environment variable sets: flags first, in their table's order. */
export function settingsHelp(): SettingHelp[] {
  const settings = [...new Set([...Object.values(FLAG_SETTINGS), ...Object.values(ENV_SETTINGS)].map(({ setting }) => setting))];
  return helpOf(settings);
}

/** Every setting of the schema, config-file-only ones included, in the schema's order (docs/settings.md). */
export function everySettingHelp(): SettingHelp[] {
  return helpOf(leafSettings(settingsSchema, ''));
}

function helpOf(settings: string[]): SettingHelp[] {
  const defaults = readSettingsFile(defaultSettingsFile(), 'config/default.yaml');
  const envOf = new Map(Object.entries(ENV_SETTINGS).map(([name, { setting }]) => [setting, name]));
  const flagOf = new Map(Object.entries(FLAG_SETTINGS).map(([flag, { setting, kind }]) => [setting, `--${flag} ${PLACEHOLDERS[kind]}`]));
  return settings.map((setting) => {
    const value = valueAt(defaults, setting);
    const flag = flagOf.get(setting);
    const env = envOf.get(setting);
    return {
      setting,
      ...(flag === undefined ? {} : { flag }),
      ...(env === undefined ? {} : { env }),
      ...(value === undefined ? {} : { defaultValue: showValue(value) }),
      description: describe(setting),
    };
  });
}

/** The help text of the settings: flags (with their variable), then the variables without a flag. */
export function formatSettingsHelp(): string {
  const rows = settingsHelp();
  const entry = (head: string, row: SettingHelp, also: string | undefined): string => {
    const facts = [also, row.defaultValue === undefined ? 'no default' : `default: ${row.defaultValue}`].filter((f) => f !== undefined);
    return `  ${head}  (${facts.join('; ')})\n      ${row.description}`;
  };
  const flagged = rows.filter((row) => row.flag !== undefined);
  const envOnly = rows.filter((row) => row.flag === undefined && row.env !== undefined);
  return [
    'Flags (each also set by the environment variable named):',
    ...flagged.map((row) => entry(row.flag ?? '', row, row.env === undefined ? undefined : `env ${row.env}`)),
    '  --config FILE  (env GITFUNC_CONFIG; no default)\n      A settings file shaped like config/default.yaml, read over it.',
    '  -h, --help\n      Print this help.',
    '',
    'Environment variables without a flag (secrets stay off the command line):',
    ...envOnly.map((row) => entry(row.env ?? '', row, undefined)),
    '',
    'Sources, later ones win: config/default.yaml, the --config file, GITFUNC_* variables, flags.',
  ].join('\n');
}

/** Dotted names of the schema's leaves: settings whose value is not an object of further settings. */
function leafSettings(node: JsonSchema, prefix: string): string[] {
  const properties = node.properties as Record<string, JsonSchema> | undefined;
  if (properties === undefined) return [prefix];
  return Object.entries(properties).flatMap(([key, child]) => leafSettings(child, prefix === '' ? key : `${prefix}.${key}`));
}

function valueAt(values: Record<string, unknown>, setting: string): unknown {
  let current: unknown = values;
  for (const key of setting.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function showValue(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(',');
  if (value === '') return "''";
  return String(value);
}

/** The schema's description of `setting`, with its allowed values when they are a list. */
function describe(setting: string): string {
  let node: JsonSchema | undefined = settingsSchema;
  for (const key of setting.split('.')) node = (node?.properties as Record<string, JsonSchema> | undefined)?.[key];
  const description = typeof node?.description === 'string' ? node.description : '';
  const choices = Array.isArray(node?.enum) ? `One of: ${node.enum.join(', ')}.` : '';
  return [description, choices].filter((part) => part !== '').join(' ');
}
