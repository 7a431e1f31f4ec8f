/** The connector types a manifest may declare, each with the factory of its client. */
import type { ConnectorType } from '../manifest/index.js';
import type { ConnectorFactory } from './connector-client.js';
import { createDatakitConnector, createDatawayConnector } from './line-protocol-connector.js';
import { createMysqlConnector } from './mysql-driver.js';
import { createPostgresqlConnector } from './postgresql-driver.js';
import { createRedisConnector } from './redis-connector.js';

/** Every type's factory. */
export const CONNECTOR_FACTORIES: Readonly<Record<ConnectorType, ConnectorFactory>> = {
  mysql: createMysqlConnector,
  postgresql: createPostgresqlConnector,
  redis: createRedisConnector,
  datakit: createDatakitConnector,
  dataway: createDatawayConnector,
};
