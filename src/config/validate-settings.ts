/**
 * Validates merged settings with the precompiled settings.schema.json validator (ajv may not
 * compile at run time) and words each failure for the operator, naming the setting and its source.
 */
import type { ErrorObject } from 'ajv';
import { redactUrl } from './settings.js';
import { schema, validate } from './validate-settings.generated.js';

type JsonSchema = Record<string, unknown>;

interface SchemaValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

const validateSettingsSchema = validate as unknown as SchemaValidator;

/** settings.schema.json, as compiled. */
export const settingsSchema: JsonSchema = schema;

/** Settings whose values never appear in a message. */
const SECRET_SETTINGS = new Set(['repo.token', 'adminToken', 'webhookSecret', 'pushRemote.token']);

/** What a value must look like, for settings whose schema uses a pattern. */
const PATTERN_HINTS: Record<string, string> = {
  'repo.path': "a folder inside the repository, without '..' or a leading '/'",
  envAllow: "a list of environment variable names (letters, digits and '_'), none starting with GITFUNC_",
};

/** One message per problem of `values`; `sourceOf` names where a setting came from. */
export function settingsErrors(values: unknown, sourceOf: (setting: string) => string): string[] {
  if (validateSettingsSchema(values)) return [];
  const messages = new Set<string>();
  for (const error of validateSettingsSchema.errors ?? []) {
    const path = error.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'additionalProperties') {
      const name = [...path, String(params.additionalProperty)].join('.');
      messages.add(`unknown setting ${name} (from ${sourceOf(name)})`);
      continue;
    }
    if (error.keyword === 'required') {
      const name = [...path, String(params.missingProperty)].join('.');
      messages.add(`missing setting ${name} (needed in ${sourceOf(name)})`);
      continue;
    }
    // Report the setting itself, also when one item of a list (envAllow) is wrong.
    const names = path.filter((p) => !/^\d+$/.test(p));
    const name = names.join('.');
    const value = valueAt(values, path);
    const got = SECRET_SETTINGS.has(name) ? '***' : name === 'repo.url' && typeof value === 'string' ? show(redactUrl(value)) : show(value);
    messages.add(`invalid setting ${name} (from ${sourceOf(name)}): must be ${describe(name, schemaAt(names))}, got ${got}`);
  }
  return [...messages];
}

function schemaAt(names: readonly string[]): JsonSchema | undefined {
  let current: JsonSchema | undefined = settingsSchema;
  for (const name of names) current = (current?.properties as Record<string, JsonSchema> | undefined)?.[name];
  return current;
}

/** The rule a setting's schema states, in words. */
function describe(name: string, schema: JsonSchema | undefined): string {
  if (PATTERN_HINTS[name]) return PATTERN_HINTS[name];
  if (!schema) return 'valid';
  if (Array.isArray(schema.enum)) return `one of: ${schema.enum.map(String).join(', ')}`;
  const { minimum, maximum } = schema;
  switch (schema.type) {
    case 'integer':
      if (typeof minimum === 'number' && typeof maximum === 'number') return `an integer between ${minimum} and ${maximum}`;
      if (typeof minimum === 'number') return `an integer of at least ${minimum}`;
      return 'an integer';
    case 'number':
      if (typeof minimum === 'number' && typeof maximum === 'number') return `a number between ${minimum} and ${maximum}`;
      if (typeof minimum === 'number') return `a number of at least ${minimum}`;
      return 'a number';
    case 'string':
      return schema.minLength === 1 ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping';
    default:
      return String(schema.type);
  }
}

function valueAt(values: unknown, path: readonly string[]): unknown {
  let current = values;
  for (const part of path) current = (current as Record<string, unknown> | undefined)?.[part];
  return current;
}

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? String(value);
}
