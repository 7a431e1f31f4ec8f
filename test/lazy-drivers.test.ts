// Modules only some setups use are imported only when used: the connector and Redis drivers
// (mysql2, pg, ioredis, BullMQ), formidable (multipart bodies), yauzl (wheels). The server's own
// modules load none of them; a connector's type loads its driver when it is first opened; and a
// module that cannot be loaded is a typed error (DRIVER_NOT_LOADED), for the script using the
// connector as for the server.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { ConnectorDriverError } from '../src/connectors/connector-client.js';
import { ConnectorRegistry } from '../src/connectors/connector-registry.js';
import { DriverNotLoaded, GitfuncError, loadDriver } from '../src/errors.js';
import { createLogger } from '../src/log.js';
import { BridgePeer } from '../src/runtime/bridge/bridge-server.js';

const ROOT = path.resolve(import.meta.dirname, '..');
/** CommonJS packages each lazily loaded module brings (formidable is ESM: its dependency cuid2 stands for it). */
const DRIVERS = ['mysql2', 'pg', 'ioredis', 'bullmq', 'yauzl', '@paralleldrive/cuid2'];

/**
 * The node_modules packages a fresh process holds in its CommonJS cache after importing the
 * server, then after loading every connector type, the Redis storage and the modules the
 * multipart reader and the wheel unpacker import.
 */
const probe = `
import { createRequire } from 'node:module';
const cache = createRequire(import.meta.url).cache;
const packages = () => [...new Set(Object.keys(cache).map((file) => /node_modules\\/((@[^/]+\\/)?[^/]+)/.exec(file)?.[1]).filter(Boolean))];
await import('./src/server.ts');
const afterServer = packages();
const { CONNECTOR_LOADERS } = await import('./src/connectors/connector-types.ts');
for (const load of Object.values(CONNECTOR_LOADERS)) await load();
await import('./src/redis/index.ts');
await Promise.all([import('formidable'), import('yauzl')]);
console.log(JSON.stringify({ afterServer, afterLoaders: packages() }));
`;

t.test('importing the server loads none of them; the connector loaders, the Redis storage, an upload and a wheel do', async (t) => {
  const out = execFileSync(process.execPath, ['--import=tsx', '--input-type=module', '-e', probe], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const { afterServer, afterLoaders } = JSON.parse(out) as { afterServer: string[]; afterLoaders: string[] };
  t.ok(afterServer.includes('better-sqlite3'), 'the probe sees the packages the server imports');
  for (const driver of DRIVERS) {
    t.notOk(afterServer.includes(driver), `${driver} is not loaded by importing the server`);
    t.ok(afterLoaders.includes(driver), `${driver} is loaded once a setup uses it`);
  }
});

t.test('a module that cannot be loaded is DriverNotLoaded, naming the driver', async (t) => {
  const error = await loadDriver('nonesuch', () => import('gitfunc-no-such-driver' as string)).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof DriverNotLoaded);
  t.equal((error as GitfuncError).code, 'DRIVER_NOT_LOADED');
  t.same((error as GitfuncError).data, { driver: 'nonesuch' });
  t.match((error as Error).message, /^nonesuch could not be loaded .*gitfunc-no-such-driver/);
});

t.test("a connector whose driver cannot be loaded fails the script's call with DRIVER_NOT_LOADED, and is tried again on the next use", async (t) => {
  let loads = 0;
  const registry = new ConnectorRegistry(
    {
      mysql: async () => {
        loads++;
        return (await loadDriver('mysql2 (the mysql connector)', () => import('gitfunc-no-such-driver' as string))) as never;
      },
    },
    async () => undefined,
    createLogger('silent'),
  );
  registry.update([{ commit: 'c1', connectors: [{ id: 'db', type: 'mysql', config: { host: '127.0.0.1', port: 3306 } }] }]);
  const operation = { op: 'query', args: ['SELECT 1'], timeoutMs: 1000, peer: new BridgePeer() };
  for (let i = 0; i < 2; i++) {
    const error = await registry.run('c1', 'db', operation).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(error instanceof ConnectorDriverError, 'the script hears a connector error');
    t.equal((error as GitfuncError).data.driverCode, 'DRIVER_NOT_LOADED');
    t.match((error as Error).message, /^connector 'db' cannot be opened: mysql2 \(the mysql connector\) could not be loaded/);
  }
  t.equal(loads, 2);
  await registry.close();
});
