// Copies the files tsc does not emit (the Python shim, the plain-JS thread entries) into dist/.
import { cpSync, writeFileSync } from 'node:fs';

cpSync('src/runtime/python', 'dist/runtime/python', { recursive: true, filter: (src) => !src.includes('__pycache__') });
cpSync('src/runtime/worker-entry.cjs', 'dist/runtime/worker-entry.cjs');
cpSync('src/runtime/snapshot/build-entry.cjs', 'dist/runtime/snapshot/build-entry.cjs');
cpSync('src/runtime/snapshot/pyodide-module.cjs', 'dist/runtime/snapshot/pyodide-module.cjs');
cpSync('src/tasks/sqlite/record-thread-entry.mjs', 'dist/tasks/sqlite/record-thread-entry.mjs');
cpSync('src/redis/lua', 'dist/redis/lua', { recursive: true });
cpSync('src/push-remote/push-hook.cjs', 'dist/push-remote/push-hook.cjs');
cpSync('src/http/docs-page', 'dist/http/docs-page', { recursive: true });

// The build's end: bin/gitfunc.js warns when a file of src/ is newer than this stamp.
writeFileSync('dist/.built', `${new Date().toISOString()}\n`);
