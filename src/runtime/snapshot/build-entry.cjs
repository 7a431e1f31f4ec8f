'use strict';
// Thread entry that builds the interpreter snapshot (see snapshot-builder.cts). Plain CommonJS,
// like ../worker-entry.cjs: compiled snapshot-builder.cjs in dist/, the .cts through tsx otherwise.
const fs = require('node:fs');
const path = require('node:path');

const compiled = path.join(__dirname, 'snapshot-builder.cjs');
if (fs.existsSync(compiled)) require(compiled);
else require('tsx/cjs/api').require('./snapshot-builder.cts', __filename);
