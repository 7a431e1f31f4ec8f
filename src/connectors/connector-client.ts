/**
 * A declared connector's client in the server thread (CONTRACT section 12): opened from the
 * manifest's resolved settings, pooled, shared by every worker, reached from Python through the
 * bridge op `conn.run`. Credentials stay here; the Python helper (runtime/python/) gives DFF's
 * method shapes and sends each client only plain operations with JSON arguments.
 */
import type { Logger } from '../log.js';
import { BridgeRefusal, type BridgePeer } from '../runtime/bridge/bridge-server.js';

/** One operation a script asked of a connector. */
export interface ConnectorOperation {
  /** The client's own operation name ('query', 'command', 'write'...), chosen by its Python helper. */
  op: string;
  /** JSON arguments the Python helper built. */
  args: readonly unknown[];
  /** Milliseconds left before the calling script's deadline: the operation gives up after it. */
  timeoutMs: number;
  /** The worker asking: state held for its current call (an open transaction) is keyed by it. */
  peer: BridgePeer;
}

/** One connector's pool and operations. */
export interface ConnectorClient {
  run(operation: ConnectorOperation): Promise<unknown>;
  /** Releases what `peer`'s call left open (a transaction never committed is rolled back). */
  endCall?(peer: BridgePeer): Promise<void>;
  /** Closes the pool: no served revision names the connector any more. */
  close(): Promise<void>;
}

/** What a client is told besides its settings. */
export interface ConnectorContext {
  /** The connector's id in the manifest (for messages and logs). */
  id: string;
  /** For what goes wrong outside any operation (a rollback at the end of a call); never log a secret. */
  logger: Logger;
}

/**
 * Makes a client from a connector's `config` (secrets already resolved; `port` filled in). It is
 * called when a script first uses the connector; the pool should connect lazily too.
 */
export type ConnectorFactory = (config: Readonly<Record<string, unknown>>, context: ConnectorContext) => ConnectorClient;

/**
 * A type's factory, its module (and driver: mysql2, pg, ioredis) imported when a connector of
 * the type is first opened, so a server whose manifests declare none never loads the driver.
 * @throws DriverNotLoaded when the module cannot be loaded
 */
export type ConnectorLoader = () => Promise<ConnectorFactory>;

/**
 * A driver's error, raised in the script as its own exception with the driver's message and
 * code (gitfunc_connector_bridge.py: ConnectorError). The message must never hold a password.
 */
export class ConnectorDriverError extends BridgeRefusal {
  constructor(message: string, driverCode: string | number | null) {
    super(message, { connectorError: true, driverCode });
    this.name = 'ConnectorDriverError';
  }
}
