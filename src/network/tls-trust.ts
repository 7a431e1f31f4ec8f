/**
 * Which certificate authorities a script's TLS connection trusts: always the host's CA store
 * (Node's bundled roots) plus the operator's `GITFUNC_CA_FILE`, and whatever the script's
 * SSLContext loaded on top (`load_verify_locations`, as `requests` does with certifi's bundle).
 *
 * A script names its CA bundles by sha256; the server learns each bundle's PEM once, and one
 * TLS SecureContext per trust set is built and kept: parsing ~150 roots costs milliseconds, too
 * much for every connection.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { type CaBundle, sha256Hex } from '../runtime/ca-bundle.js';

/** Bundles and contexts kept: a revision uses a handful. */
const KEPT = 64;

/** A client certificate the script loaded (`load_cert_chain`). */
export interface ClientCertificate {
  cert: string;
  key: string;
  passphrase?: string;
}

export class TlsTrust {
  private readonly bundles = new LRUCache<string, string>({ max: KEPT });
  private readonly contexts = new LRUCache<string, SecureContext>({ max: KEPT });

  /** `host`: the host's CA store and the operator's CA file, always trusted. */
  constructor(private readonly host: CaBundle) {}

  /** Remembers a bundle a script sent; its hash is how later connections name it. */
  learn(pem: string): void {
    const hash = sha256Hex(pem);
    if (hash !== this.host.sha256) this.bundles.set(hash, pem);
  }

  /** The hashes among `hashes` whose PEM is not known here: the script sends those. */
  unknown(hashes: readonly string[]): string[] {
    return hashes.filter((hash) => hash !== this.host.sha256 && !this.bundles.has(hash));
  }

  /** The context trusting the host's bundle and the named ones. */
  contextFor(hashes: readonly string[], client: ClientCertificate | undefined): SecureContext {
    const extra = [...new Set(hashes)].filter((hash) => hash !== this.host.sha256).sort();
    const build = (): SecureContext =>
      createSecureContext({
        ca: [this.host.pem, ...extra.map((hash) => this.bundles.get(hash)!)],
        ...(client === undefined ? {} : client),
      });
    // A client certificate is rare and secret: its context is not kept.
    if (client !== undefined) return build();
    const key = extra.join(',');
    let context = this.contexts.get(key);
    if (context === undefined) {
      context = build();
      this.contexts.set(key, context);
    }
    return context;
  }
}
