/**
 * The JSON Schema of an API's kwargs (CONTRACT section 3's merge rules) from its manifest
 * kwargs and its function's signature: names, defaults, and types read from annotations.
 */
import { INPUT_BY_CALLER } from '../manifest/index.js';
import type { FunctionInfo, ParameterInfo } from '../model/function-info.js';
import type { ApiEndpoint } from '../revision/revision.js';

/** A JSON Schema (OpenAPI 3.1 schemas are JSON Schema 2020-12). */
export type Schema = Record<string, unknown>;

/** The schemas of Python's plain types (typing's capitalised names too). */
const PLAIN_TYPES: Readonly<Record<string, Schema>> = Object.freeze({
  int: { type: 'integer' },
  float: { type: 'number' },
  str: { type: 'string' },
  bool: { type: 'boolean' },
  None: { type: 'null' },
  NoneType: { type: 'null' },
  dict: { type: 'object' },
  Dict: { type: 'object' },
  list: { type: 'array' },
  List: { type: 'array' },
  tuple: { type: 'array' },
  Tuple: { type: 'array' },
  Any: {},
});

/** Splits `text` at top-level `separator`s (not inside brackets). */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '[') depth++;
    else if (char === ']') depth--;
    else if (char === separator && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts;
}

function anyOf(schemas: Schema[]): Schema {
  return schemas.some((schema) => Object.keys(schema).length === 0) ? {} : { anyOf: schemas };
}

/** The schema of a Python annotation as written; `{}` (anything) for what it cannot read. */
export function annotationSchema(annotation: string): Schema {
  const text = annotation.trim().replace(/^typing\./, '');
  const union = splitTopLevel(text, '|');
  if (union.length > 1) return anyOf(union.map(annotationSchema));
  const generic = /^(\w+)\[(.*)\]$/s.exec(text);
  if (generic === null) return { ...PLAIN_TYPES[text] };
  const [, name, inner] = generic as unknown as [string, string, string];
  const args = splitTopLevel(inner, ',');
  switch (name) {
    case 'Optional':
      return anyOf([annotationSchema(inner), { type: 'null' }]);
    case 'Union':
      return anyOf(args.map(annotationSchema));
    case 'list':
    case 'List':
    case 'set':
    case 'Set':
      return { type: 'array', items: annotationSchema(inner) };
    case 'dict':
    case 'Dict':
      return { type: 'object', additionalProperties: annotationSchema(args[1] ?? 'Any') };
    default:
      return { ...PLAIN_TYPES[name] };
  }
}

/** One kwarg's schema: its type from the annotation, its default, both shown as Python wrote them. */
export function parameterSchema(parameter: ParameterInfo | undefined): Schema {
  if (parameter === undefined) return {};
  const schema = parameter.annotation === undefined ? {} : annotationSchema(parameter.annotation);
  const notes: string[] = [];
  if (parameter.annotation !== undefined) notes.push(`Python annotation: \`${parameter.annotation}\``);
  if ('default' in parameter) schema.default = parameter.default;
  else if (parameter.defaultText !== undefined) notes.push(`default: \`${parameter.defaultText}\``);
  if (notes.length > 0) schema.description = notes.join('; ');
  return schema;
}

/** What a caller may pass as kwargs, by name, and whether other names are accepted. */
export interface CallerKwargs {
  /** Each name with its parameter (undefined when the signature does not name it). */
  names: Map<string, ParameterInfo | undefined>;
  required: string[];
  /** Other names are accepted too (no manifest kwargs and a function taking `**kwargs`). */
  open: boolean;
  /** Names the manifest fixes: a caller may not give them. */
  fixed: string[];
}

/** The kwargs a caller may give an API (see `mergeKwargs` and `refuseUnknownKwargs`). */
export function callerKwargs(endpoint: ApiEndpoint, info: FunctionInfo | undefined): CallerKwargs {
  const parameters = new Map((info?.parameters ?? []).map((p) => [p.name, p]));
  if (endpoint.kwargs !== undefined) {
    const entries = Object.entries(endpoint.kwargs);
    const byCaller = entries.filter(([, value]) => value === INPUT_BY_CALLER).map(([name]) => name);
    return {
      names: new Map(byCaller.map((name) => [name, parameters.get(name)])),
      // Left out by the caller, an INPUT_BY_CALLER kwarg is dropped: the function then needs a default.
      required: byCaller.filter((name) => parameters.get(name)?.required === true),
      open: false,
      fixed: entries.filter(([, value]) => value !== INPUT_BY_CALLER).map(([name]) => name),
    };
  }
  return {
    names: new Map(parameters),
    required: [...parameters.values()].filter((p) => p.required).map((p) => p.name),
    open: endpoint.keywordParameters === undefined,
    fixed: [],
  };
}

/** The JSON Schema of the kwargs object (types kept: the normal form and JSON bodies). */
export function kwargsSchema(kwargs: CallerKwargs): Schema {
  const schema: Schema = {
    type: 'object',
    properties: Object.fromEntries([...kwargs.names].map(([name, parameter]) => [name, parameterSchema(parameter)])),
    additionalProperties: kwargs.open,
  };
  if (kwargs.required.length > 0) schema.required = kwargs.required;
  return schema;
}

/** The kwargs as text fields (a query string or a form): every value a string. */
export function textFieldsSchema(kwargs: CallerKwargs): Schema {
  const schema: Schema = {
    type: 'object',
    properties: Object.fromEntries([...kwargs.names.keys()].map((name) => [name, { type: 'string' }])),
    additionalProperties: kwargs.open,
  };
  if (kwargs.required.length > 0) schema.required = kwargs.required;
  return schema;
}
