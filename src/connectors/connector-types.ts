/** The connector types a manifest may declare, each with the factory of its client. */
import type { ConnectorType } from '../manifest/index.js';
import type { ConnectorFactory } from './connector-client.js';
import { createMysqlConnector } from './mysql-driver.js';
import { createPostgresqlConnector } from './postgresql-driver.js';

/** Every type's factory; a type missing here answers scripts that it is not available. */
export const CONNECTOR_FACTORIES: Readonly<Partial<Record<ConnectorType, ConnectorFactory>>> = {
  mysql: createMysqlConnector,
  postgresql: createPostgresqlConnector,
  // The redis, datakit and dataway types join here.
};
