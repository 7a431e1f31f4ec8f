/**
 * Pyodide under Node's permission model (`--experimental-permission`): there `process.binding`
 * throws ERR_ACCESS_DENIED, and Pyodide's Emscripten NODEFS reads the open(2) flags from
 * `process.binding('constants').fs` when it starts. The same flags are public as
 * `fs.constants`, so this thread's `process.binding('constants')` answers with those.
 */
import fs = require('node:fs');

// Both are left out of @types/node (`binding` is deprecated, `permission` experimental).
const node = process as unknown as { permission?: unknown; binding(name: string): unknown };

/** Node runs with its permission model (`--experimental-permission`). */
export function permissionModelOn(): boolean {
  return node.permission !== undefined;
}

/** Call in a worker thread before loading Pyodide; does nothing without the permission model. */
export function letPyodideStartUnderPermissionModel(): void {
  if (!permissionModelOn()) return;
  const binding = node.binding.bind(process);
  node.binding = (name) => (name === 'constants' ? { fs: fs.constants } : binding(name));
}
