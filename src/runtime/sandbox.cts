/**
 * Defence in depth for a worker's Pyodide: what Python can reach of the host. Scripts come from
 * the team's own repository and are trusted; these layers keep a mistake (or a bad dependency)
 * from reaching the server's process, environment, files, shell or network. They are no
 * isolation boundary for untrusted code: see README "What a script can reach".
 */
import Module = require('node:module');
import type { PyodideInterface } from 'pyodide';
import type { PyCallable, PyProxy } from 'pyodide/ffi';
import type { ErrorCode } from '../errors/catalog.js' with { 'resolution-mode': 'import' };

/**
 * Pyodide's `jsglobals` option: it only backs Python's `js` module (checked in pyodide.asm.mjs:
 * nothing else reads it), which the lock-down unregisters anyway. An object with no prototype,
 * so even a stray reference leads nowhere.
 */
export const SANDBOX_JS_GLOBALS: object = Object.freeze(Object.create(null) as object);

/**
 * Node modules Pyodide's Emscripten layer loads lazily on Python's behalf: `child_process` for
 * `os.system` (a host shell), `ws` for sockets (TCP to any host, as a WebSocket handshake), and
 * the network modules behind its asyncio sockets.
 */
const REFUSED_MODULES = new Set([
  'child_process',
  'ws',
  'net',
  'tls',
  'dgram',
  'http',
  'https',
  'http2',
  'inspector',
  'cluster',
]);

class CodeGenerationAllowedError extends Error {
  // A worker-side (CommonJS) error: not a GitfuncError, but its code is in the catalog.
  readonly code: ErrorCode = 'SANDBOX_CODE_GENERATION_ALLOWED';
}

/**
 * Refuses to start a worker whose JS can compile strings (`eval`, `new Function`): from any
 * Pyodide proxy, `.constructor.constructor('return process')()` would reach the host. The pool
 * turns that off for worker threads before starting them (see worker-isolation.ts).
 */
export function assertNoCodeGeneration(): void {
  let compiled = true;
  try {
    new Function('');
  } catch {
    compiled = false;
  }
  if (compiled) throw new CodeGenerationAllowedError('worker started with code generation from strings allowed: refusing to run scripts');
}

type ModuleLoad = (request: string, parent: unknown, isMain: boolean) => unknown;

/**
 * From now on this thread cannot load the modules in REFUSED_MODULES: Emscripten then reports
 * an error to Python (or the call fails) instead of spawning a shell or opening a socket.
 * Installed once Pyodide and the bridge are up; what they loaded before stays usable to them.
 */
export function refuseHostModules(): void {
  const loader = Module as unknown as { _load: ModuleLoad };
  const load = loader._load;
  loader._load = function refusingLoad(request, parent, isMain) {
    if (REFUSED_MODULES.has(request.startsWith('node:') ? request.slice(5) : request)) {
      throw Object.assign(new Error(`module ${request} is not available in a gitfunc worker`), { code: 'ERR_ACCESS_DENIED' });
    }
    return load.call(this, request, parent, isMain);
  };
}

/**
 * Cuts Python's ways to JavaScript: the `js` and `pyodide_js` modules are unregistered and
 * forgotten (gitfunc_sandbox.py), so the Pyodide API (mountNodeFS, the Emscripten module) is
 * no longer reachable from Python. Call after the runtime's own Python modules are imported.
 */
export function lockDown(pyodide: PyodideInterface): void {
  pyodide.unregisterJsModule('js');
  pyodide.unregisterJsModule('pyodide_js');
  const sandbox = pyodide.pyimport('gitfunc_sandbox') as PyProxy & { lock_down: PyCallable };
  sandbox.lock_down();
  sandbox.destroy();
}
