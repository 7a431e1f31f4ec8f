/** The functions repository's manifest, `gitfunc.yaml`: parse, validate, check, resolve. */
export { loadManifest, parseManifest, type LoadedManifest } from './load-manifest.js';
export { checkManifest, cronExpressionError, timezoneError } from './check-manifest.js';
export { checkFunctions, scriptPath } from './check-functions.js';
export { loadPackagePins, parseRequirementsFile } from './requirements-file.js';
export {
  resolveApiAuths,
  resolveConnectors,
  resolveEnv,
  resolveManifest,
  type ResolveMode,
  type ResolvedEnv,
} from './resolve-env.js';
export { manifestSchema, validateManifestSchema, type SchemaValidator } from './validate-manifest.js';
export {
  INPUT_BY_CALLER,
  MANIFEST_FILE,
  type ApiAuth,
  type ApiEntry,
  type BasicUser,
  CONNECTOR_TYPES,
  type ConnectorEntry,
  type ConnectorType,
  type CronJobEntry,
  type EntryPositions,
  type FixedField,
  type FixedFieldAuth,
  type FuncAuth,
  type HttpBasicAuth,
  type HttpDigestAuth,
  type Kwargs,
  type Manifest,
  type Misfire,
  type PackagePin,
  type PackagesSpec,
  type Position,
  type Throttling,
} from './types.js';
