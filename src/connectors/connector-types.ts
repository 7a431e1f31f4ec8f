/**
 * The connector types a manifest may declare, each with the loader of its client's factory. The
 * drivers are imported on first use: mysql2, pg and ioredis took ~170 ms of a start's imports
 * (docs/performance.md) in servers most of which declare no connector.
 */
import { loadDriver } from '../errors.js';
import type { ConnectorType } from '../manifest/index.js';
import type { ConnectorLoader } from './connector-client.js';

/** Every type's loader. */
export const CONNECTOR_LOADERS: Readonly<Record<ConnectorType, ConnectorLoader>> = {
  mysql: async () => (await loadDriver('mysql2 (the mysql connector)', () => import('./mysql-driver.js'))).createMysqlConnector,
  postgresql: async () => (await loadDriver('pg (the postgresql connector)', () => import('./postgresql-driver.js'))).createPostgresqlConnector,
  redis: async () => (await loadDriver('ioredis (the redis connector)', () => import('./redis-connector.js'))).createRedisConnector,
  datakit: async () => (await loadDriver('the datakit connector', () => import('./line-protocol-connector.js'))).createDatakitConnector,
  dataway: async () => (await loadDriver('the dataway connector', () => import('./line-protocol-connector.js'))).createDatawayConnector,
};
