import type { loadPyodide } from 'pyodide';

/** Pyodide's Emscripten module factory, as loadPyodide's `createPyodideModule` option types it. */
export type CreatePyodideModule = NonNullable<NonNullable<Parameters<typeof loadPyodide>[0]>['createPyodideModule']>;

/** pyodide.asm.mjs's default export, imported once per thread. */
export declare function importPyodideModule(): Promise<CreatePyodideModule>;
