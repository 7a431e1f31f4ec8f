/**
 * Which client answers `DFF.CONN(id)` in each revision still in use, and the life of their
 * pools: a client is made when a script first uses its connector, shared by every worker and
 * by every revision declaring the connector with the same settings, and closed once no revision
 * served or still running calls declares it. A reload that changes a connector's settings gets
 * a new client; calls still running on the old revision keep the old one until they end.
 */
import type { Logger } from '../log.js';
import type { ConnectorType } from '../manifest/index.js';
import { BridgeRefusal, type BridgePeer } from '../runtime/bridge/bridge-server.js';
import { ConnectorDriverError, type ConnectorClient, type ConnectorFactory, type ConnectorLoader, type ConnectorOperation } from './connector-client.js';

/** A connector as a revision declares it, its settings resolved. */
export interface DeclaredConnector {
  id: string;
  type: ConnectorType;
  config: Readonly<Record<string, unknown>>;
}

/** A revision served or still running calls, with its connectors. */
export interface RevisionConnectors {
  commit: string;
  connectors: readonly DeclaredConnector[];
}

/** One connector with one set of settings; its client exists once a script used it. */
interface Entry {
  declared: DeclaredConnector;
  client?: ConnectorClient;
  /** The client being made (the egress rules checked first). */
  opening?: Promise<ConnectorClient>;
}

/** Why the server may not connect to `host:port` for scripts (the egress rules), or undefined. */
export type EgressCheck = (host: string, port: number) => Promise<string | undefined>;

/** The same connector with the same settings has the same key, in any revision. */
function settingsKey(connector: DeclaredConnector): string {
  const config = Object.fromEntries(Object.entries(connector.config).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify([connector.id, connector.type, config]);
}

/** Only a driver error's message is logged: its other fields may hold a statement's data. */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class ConnectorRegistry {
  /** commit -> connector id -> entry */
  private byCommit = new Map<string, Map<string, Entry>>();
  /** settings key -> entry */
  private entries = new Map<string, Entry>();
  /** Entries each worker's current call used (their clients hear when the call ends). */
  private readonly used = new WeakMap<BridgePeer, Set<Entry>>();
  private readonly watched = new WeakSet<BridgePeer>();
  private readonly closing = new Set<Promise<void>>();

  constructor(
    private readonly loaders: Readonly<Partial<Record<ConnectorType, ConnectorLoader>>>,
    private readonly egress: EgressCheck,
    private readonly logger: Logger,
  ) {}

  /**
   * The revisions served or running calls now (the server tells it whenever that set changes).
   * Clients no revision declares any more are closed.
   */
  update(revisions: readonly RevisionConnectors[]): void {
    const byCommit = new Map<string, Map<string, Entry>>();
    const entries = new Map<string, Entry>();
    for (const revision of revisions) {
      const ids = new Map<string, Entry>();
      for (const connector of revision.connectors) {
        const key = settingsKey(connector);
        const entry = entries.get(key) ?? this.entries.get(key) ?? { declared: connector };
        entries.set(key, entry);
        ids.set(connector.id, entry);
      }
      byCommit.set(revision.commit, ids);
    }
    for (const [key, entry] of this.entries) if (!entries.has(key)) this.closeEntry(entry);
    this.byCommit = byCommit;
    this.entries = entries;
  }

  /** Runs an operation on connector `id` of revision `commit`, for the call `operation.peer` runs. */
  async run(commit: string, id: string, operation: ConnectorOperation): Promise<unknown> {
    const entry = this.byCommit.get(commit)?.get(id);
    if (entry === undefined) throw new BridgeRefusal(`connector '${id}' cannot be reached here: connectors answer a served revision's calls`);
    const client = entry.client ?? (await (entry.opening ??= this.open(entry).finally(() => (entry.opening = undefined))));
    if (client.endCall !== undefined) this.markUsed(operation.peer, entry);
    return client.run(operation);
  }

  /** The worker's call ended (or the worker is gone): each client it used releases what it left open. */
  async endCall(peer: BridgePeer): Promise<void> {
    const used = this.used.get(peer);
    if (used === undefined) return;
    this.used.delete(peer);
    await Promise.all(
      [...used].map(async (entry) => {
        try {
          await entry.client?.endCall?.(peer);
        } catch (error) {
          this.logger.warn({ connector: entry.declared.id, reason: messageOf(error) }, 'ending a call on a connector failed');
        }
      }),
    );
  }

  /** Closes every client (the server stops). */
  async close(): Promise<void> {
    this.update([]);
    await Promise.all([...this.closing]);
  }

  /** Makes the entry's client once the egress rules allow its host; a failure is tried again on the next use. */
  private async open(entry: Entry): Promise<ConnectorClient> {
    const { id, type, config } = entry.declared;
    const load = this.loaders[type];
    if (load === undefined) throw new BridgeRefusal(`connectors of type ${type} are not available in this gitfunc`);
    const refusal = await this.egress(String(config.host), Number(config.port));
    if (refusal !== undefined) throw new ConnectorDriverError(`connector '${id}': ${refusal}`, 'EACCES');
    let factory: ConnectorFactory;
    try {
      factory = await load();
    } catch (error) {
      // DriverNotLoaded (errors.ts): the installation's fault, so the server's log says it too.
      this.logger.error({ connector: id, type, reason: messageOf(error) }, 'a connector driver could not be loaded');
      throw new ConnectorDriverError(`connector '${id}' cannot be opened: ${messageOf(error)}`, 'DRIVER_NOT_LOADED');
    }
    let client: ConnectorClient;
    try {
      client = factory(config, { id, logger: this.logger });
    } catch (error) {
      // A setting the driver refuses (an unknown charset): the script hears why, not the settings.
      throw new ConnectorDriverError(`connector '${id}' cannot be opened: ${messageOf(error)}`, 'CONFIG');
    }
    // Dropped while the rules were checked (a reload): nobody else would close it.
    if ([...this.entries.values()].includes(entry)) entry.client = client;
    else void client.close();
    return client;
  }

  private markUsed(peer: BridgePeer, entry: Entry): void {
    let used = this.used.get(peer);
    if (used === undefined) this.used.set(peer, (used = new Set()));
    used.add(entry);
    if (!this.watched.has(peer)) {
      this.watched.add(peer);
      peer.onClose(() => void this.endCall(peer));
    }
  }

  private closeEntry(entry: Entry): void {
    const client = entry.client;
    if (client === undefined) return;
    entry.client = undefined;
    const closed = client.close().catch((error: unknown) => this.logger.warn({ connector: entry.declared.id, reason: messageOf(error) }, 'closing a connector failed'));
    this.closing.add(closed);
    void closed.finally(() => this.closing.delete(closed));
  }
}
