/**
 * Reading a connector's `config` (the manifest's, secrets resolved) into typed settings, with
 * the defaults DFF gives. A wrong setting is the team's mistake, reported with the setting's name.
 */
import { ConnectorDriverError } from './connector-client.js';

type Config = Readonly<Record<string, unknown>>;

function wrongSetting(type: string, key: string, expected: string): ConnectorDriverError {
  return new ConnectorDriverError(`${type} connector: config.${key} must be ${expected}`, 'CONFIG');
}

/** A string setting; `fallback` when absent. */
export function textSetting(config: Config, type: string, key: string, fallback: string): string;
export function textSetting(config: Config, type: string, key: string, fallback?: undefined): string | undefined;
export function textSetting(config: Config, type: string, key: string, fallback?: string): string | undefined {
  const value = config[key];
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value !== 'string') throw wrongSetting(type, key, 'a string');
  return value;
}

/** An integer setting from `min` to `max` (a numeric string is accepted); `fallback` when absent. */
export function integerSetting(config: Config, type: string, key: string, min: number, max: number, fallback: number): number;
export function integerSetting(config: Config, type: string, key: string, min: number, max: number, fallback?: undefined): number | undefined;
export function integerSetting(config: Config, type: string, key: string, min: number, max: number, fallback?: number): number | undefined {
  const raw = config[key];
  if (raw === undefined || raw === null || raw === '') return fallback;
  const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw wrongSetting(type, key, `an integer from ${min} to ${max}`);
  return value;
}

/** One of `choices`; `fallback` when absent. */
export function choiceSetting<C extends string>(config: Config, type: string, key: string, choices: readonly C[], fallback: C): C {
  const value = textSetting(config, type, key, fallback);
  if (!(choices as readonly string[]).includes(value)) throw wrongSetting(type, key, `one of ${choices.join(', ')}`);
  return value as C;
}
