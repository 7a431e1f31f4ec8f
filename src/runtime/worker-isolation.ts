import v8 from 'node:v8';

/**
 * Piscina options that keep the server's process out of a worker's reach: an empty
 * environment (a script sees only the manifest's `env`, through DFF.ENV). No `execArgv` here:
 * a Worker given its own `execArgv` escaped Node's permission model.
 */
export const WORKER_ISOLATION_OPTIONS = { env: {} } as const;

/**
 * Makes every JS context created from now on refuse to compile strings (`eval`,
 * `new Function`), which is what a Pyodide proxy's `.constructor.constructor` would use to
 * reach `process`. The V8 flag is read when a context is created, so the server thread keeps
 * running as it is (measured on Node 20) while every worker thread started after this call,
 * including replacements, runs without it. The workers check it (sandbox.cts).
 */
export function blockCodeGenerationInNewContexts(): void {
  v8.setFlagsFromString('--disallow-code-generation-from-strings');
}
