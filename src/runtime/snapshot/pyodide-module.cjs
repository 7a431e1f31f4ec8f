'use strict';
// Pyodide's Emscripten module factory (pyodide.asm.mjs, 1.2 MB of JS, ~0.17 s to compile), for
// interpreter.cts to wrap. Plain CommonJS on purpose, like ../worker-entry.cjs: when the
// TypeScript sources run through tsx's CommonJS API (tests, bench), an import() written in them
// is tsx's, which compiles Pyodide into a copy of its own; this file's import() stays Node's.
let factory;

exports.importPyodideModule = () => {
  factory ??= import('pyodide/pyodide.asm.mjs').then((module) => module.default);
  return factory;
};
