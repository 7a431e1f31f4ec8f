/**
 * Turns ajv's errors for `gitfunc.yaml` into problems a person understands, each at the line and
 * column of the offending key or value ("unknown field 'tiemout' in syncAPIs[0]", not
 * "must NOT have additional properties").
 */
import type { ErrorObject } from 'ajv';
import { closestName } from '../closest-name.js';
import type { Problem } from '../errors.js';
import { MANIFEST_FILE, type Position } from './types.js';
import { formatPath, pointerToPath, type PathSegment, type YamlLocator } from './yaml-positions.js';

type JsonSchema = Record<string, unknown>;

/** What a value must look like when its pattern (or anyOf) fails, by field name. */
const FORMAT_HINTS: Record<string, string> = {
  id: "must be 1-64 letters, digits, '_' or '-'",
  func: 'must look like <set>__<script>.<func>, e.g. demo__basic.hello_world',
  expireTime: 'must be a date-time such as 2030-01-01T00:00:00Z, or epoch seconds',
  packages: 'must be a list of pins (name==version) or the path of a requirements file',
};

const ENV_NAME_HINT = "must be letters, digits and '_', not starting with a digit";

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'empty',
};

/** Problems for the schema errors of `data` (the manifest's JS value), sorted by position. */
export function schemaProblems(
  errors: readonly ErrorObject[],
  data: unknown,
  locator: YamlLocator,
  schema: JsonSchema,
): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const error of relevantErrors(errors)) {
    const found = describeError(error, data, locator, schema);
    const key = `${found.position.line}:${found.position.col}:${found.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ file: MANIFEST_FILE, ...found.position, severity: 'error', message: found.message });
  }
  return problems.sort((a, b) => a.line - b.line || a.col - b.col);
}

/** Drops errors that only restate another: the branches of an anyOf, propertyNames wrappers. */
function relevantErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  return errors.filter((e) => {
    if (e.keyword === 'propertyNames') return false;
    return !anyOfs.some((a) => a !== e && a.instancePath === e.instancePath && e.schemaPath.startsWith(`${a.schemaPath}/`));
  });
}

function describeError(
  error: ErrorObject,
  data: unknown,
  locator: YamlLocator,
  schema: JsonSchema,
): { position: Position; message: string } {
  const path = pointerToPath(error.instancePath, data);
  const label = formatPath(path);
  const value = valueAt(data, path);
  const field = lastName(path);
  const params = error.params as Record<string, unknown>;
  const at = (message: string): { position: Position; message: string } => ({ position: locator.value(path), message });

  if (error.propertyName !== undefined) {
    // A key of a mapping failed its name rule (only env names have one).
    return {
      position: locator.key(path, error.propertyName),
      message: `invalid name '${error.propertyName}' in ${label}: ${ENV_NAME_HINT}`,
    };
  }
  switch (error.keyword) {
    case 'const':
      if (path.length === 1 && path[0] === 'version') {
        return at(`unknown manifest version ${show(value)} (this gitfunc supports 1)`);
      }
      return at(`${label} must be ${show(params.allowedValue)}`);
    case 'required':
      return at(`missing required field '${String(params.missingProperty)}' in ${label}`);
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const suggestion = closestName(name, knownFields(schema, path, data));
      const hint = suggestion ? ` (did you mean '${suggestion}'?)` : '';
      return { position: locator.key(path, name), message: `unknown field '${name}' in ${label}${hint}` };
    }
    case 'type':
      return at(`${label} must be ${typeNames(params.type)}`);
    case 'enum':
      return at(`${label} must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')} (got ${show(value)})`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return at(`${label} must be ${String(params.comparison)} ${String(params.limit)}`);
    case 'minLength':
      return at(params.limit === 1 ? `${label} must not be empty` : `${label} must be at least ${String(params.limit)} characters`);
    case 'maxLength':
      return at(`${label} must be at most ${String(params.limit)} characters`);
    case 'minItems':
      return at(params.limit === 1 ? `${label} must list at least one entry` : `${label} must list at least ${String(params.limit)} entries`);
    case 'maxItems':
      return at(`${label} must list at most ${String(params.limit)} entries`);
    case 'pattern':
    case 'anyOf': {
      const hint = field !== undefined ? FORMAT_HINTS[field] : undefined;
      return at(`${label} ${hint ?? 'has the wrong format'} (got ${show(value)})`);
    }
    case 'discriminator': {
      const tag = String(params.tag);
      if (params.error === 'tag' && (value === null || typeof value !== 'object' || !(tag in value))) {
        return at(`missing required field '${tag}' in ${label}`);
      }
      const tagPath = [...path, tag];
      const choices = discriminatorValues(schemaAt(schema, path, data), tag);
      return {
        position: locator.value(tagPath),
        message: `${formatPath(tagPath)} must be one of: ${choices.join(', ')} (got ${show(valueAt(data, tagPath))})`,
      };
    }
    default:
      return at(`${label} ${error.message ?? 'is invalid'}`);
  }
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function lastName(path: readonly PathSegment[]): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    const segment = path[i];
    if (typeof segment === 'string') return segment;
  }
  return undefined;
}

/** A value as the message shows it: strings quoted, others as YAML would print them. */
function show(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function typeNames(type: unknown): string {
  const types = Array.isArray(type) ? type : String(type).split(',');
  return types.map((t) => TYPE_NAMES[String(t)] ?? String(t)).join(' or ');
}

/** The schema that applies to the value at `path`, following $ref, items and discriminators. */
function schemaAt(root: JsonSchema, path: readonly PathSegment[], data: unknown): JsonSchema | undefined {
  let schema: JsonSchema | undefined = resolve(root, root, data);
  let value = data;
  for (const segment of path) {
    if (!schema) return undefined;
    value = (value as Record<string | number, unknown> | undefined)?.[segment];
    let next: unknown;
    if (typeof segment === 'number') next = schema.items;
    else next = (schema.properties as JsonSchema | undefined)?.[segment] ?? schema.additionalProperties;
    schema = typeof next === 'object' && next !== null ? resolve(root, next as JsonSchema, value) : undefined;
  }
  return schema;
}

/** Follows a local $ref, and picks the oneOf branch a discriminator selects for `value`. */
function resolve(root: JsonSchema, schema: JsonSchema, value: unknown): JsonSchema {
  let current = schema;
  const ref = current.$ref;
  if (typeof ref === 'string' && ref.startsWith('#/')) {
    let target: unknown = root;
    for (const part of ref.slice(2).split('/')) target = (target as JsonSchema | undefined)?.[part];
    if (typeof target === 'object' && target !== null) current = target as JsonSchema;
  }
  const discriminator = current.discriminator as { propertyName?: string } | undefined;
  if (discriminator?.propertyName && Array.isArray(current.oneOf) && value !== null && typeof value === 'object') {
    const tagValue = (value as Record<string, unknown>)[discriminator.propertyName];
    const branch = (current.oneOf as JsonSchema[]).find(
      (b) => ((b.properties as JsonSchema | undefined)?.[discriminator.propertyName!] as JsonSchema | undefined)?.const === tagValue,
    );
    if (branch) current = branch;
  }
  return current;
}

function knownFields(root: JsonSchema, path: readonly PathSegment[], data: unknown): string[] {
  const schema = schemaAt(root, path, data);
  const properties = schema?.properties;
  return typeof properties === 'object' && properties !== null ? Object.keys(properties) : [];
}

function discriminatorValues(schema: JsonSchema | undefined, tag: string): string[] {
  const branches = Array.isArray(schema?.oneOf) ? (schema.oneOf as JsonSchema[]) : [];
  return branches.map((b) => String(((b.properties as JsonSchema | undefined)?.[tag] as JsonSchema | undefined)?.const));
}
