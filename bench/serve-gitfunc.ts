// gitfunc on functions.example, as `npm start` runs it but on a free port, for bench/sync-api.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSettings } from '../src/config/index.js';
import { startServer } from '../src/server.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-bench-'));
// bench/sync-api gives its servers one snapshot dir, so only the first of them builds it.
const snapshotDir = process.env.BENCH_SNAPSHOT_DIR ? ['--snapshot-dir', process.env.BENCH_SNAPSHOT_DIR] : [];
const settings = loadSettings({
  argv: ['--port', '0', '--data-dir', dataDir, '--workers', process.env.BENCH_WORKERS ?? '2', ...snapshotDir],
  env: {},
  cwd: path.resolve(import.meta.dirname, '..'),
});
const server = await startServer(settings);
process.stderr.write(`READY ${server.url}\n`);
