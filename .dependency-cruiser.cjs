/**
 * The import rules of src/ (docs/architecture.md draws them). `npm run deps:check` runs them;
 * CI fails on any violation.
 *
 * Each entry of LAYERS is a folder of src/ (or a top-level file, without its extension). A part
 * may import only parts of the layers below its own: never its own layer's other parts, never a
 * layer above. So no two folders can import each other, directly or around a loop, and the
 * arrows that must never exist (runtime -> http, manifest -> runtime, tasks -> invocation, ...)
 * are refused with the rest. Inside a folder, no file import cycle either.
 */
const LAYERS = [
  // Typed errors and their catalog: they import nothing of gitfunc.
  ['errors'],
  // Shared types and ids, logging, small helpers.
  ['model', 'log', 'in-flight', 'secret-compare', 'lock-file', 'closest-name'],
  // Pure or self-contained parts: settings, manifest validation, fetching (commits, wheels), stores, uploads; the CLI's HTTP client; the Prometheus metrics.
  ['config', 'manifest', 'git', 'packages', 'tasks', 'uploads', 'webhook', 'response', 'data-dir-lock', 'client', 'metrics'],
  // The Python runtime (pool, workers, bridge), API access rules, the push remote's repository; `gitfunc dev`'s folder watcher.
  ['runtime', 'access', 'push-remote', 'dev'],
  // A loaded revision (built with the runtime's import check); DFF.CACHE and cache_result; scripts' sockets; DFF.STORE's bridge ops; DFF.CONN's pools.
  ['revision', 'cache', 'network', 'store', 'connectors'],
  // A call's life (sync path, background runs, records); `gitfunc check`; the storage ports on Redis (several replicas); a revision's OpenAPI document.
  ['invocation', 'check', 'redis', 'openapi'],
  // When cron jobs fire; several replicas on one Redis (heartbeat, reload fan-out).
  ['schedule', 'replicas'],
  // Routes: read requests, map domain errors to DFF codes, write responses.
  ['http'],
  // The composition root, then the command line.
  ['server'],
  ['cli'],
  ['main'],
];

const partPath = (part) => `^src/${part}(/|\\.c?ts$)`;

const layerRules = LAYERS.flatMap((layer, index) =>
  layer.flatMap((part) => {
    const notBelow = LAYERS.slice(index).flat().filter((other) => other !== part);
    if (notBelow.length === 0) return []; // the top layer's one part may import everything
    return {
      name: `layer-${part}`,
      comment: `${part} may import only the layers below it: ${LAYERS.slice(0, index).flat().join(', ') || 'nothing'}`,
      severity: 'error',
      from: { path: partPath(part) },
      to: { path: notBelow.map(partPath) },
    };
  }),
);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycle between files.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'config-imports-only-foundations',
      comment: 'Settings are validated once at start: config imports only model and errors.',
      severity: 'error',
      from: { path: partPath('config') },
      to: { path: '^src/', pathNot: [partPath('config'), partPath('model'), partPath('errors')] },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
