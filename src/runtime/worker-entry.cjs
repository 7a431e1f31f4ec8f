'use strict';
// Piscina's worker entry. Plain CommonJS on purpose: Piscina `require`s a CJS entry, while an
// ESM entry goes through `new Function`, which `--disallow-code-generation-from-strings` forbids.
// In dist/ the worker is compiled to worker.cjs; from the TypeScript sources (tests, bench) it
// is worker.cts, compiled on load by tsx's CommonJS hook (a dev dependency).
const fs = require('node:fs');
const path = require('node:path');

const compiled = path.join(__dirname, 'worker.cjs');
if (fs.existsSync(compiled)) {
  module.exports = require(compiled);
} else {
  module.exports = require('tsx/cjs/api').require('./worker.cts', __filename);
}
