/** A revision as a worker needs it: where its files are, its resolved `env`, its installed packages. */
export interface RevisionRef {
  /** The commit id; namespaces in a worker are keyed by it. */
  id: string;
  dir: string;
  env: Record<string, string>;
  /** The folder its pinned packages are installed in (importable for this revision only); absent without packages. */
  packagesDir?: string;
  /** The type of each connector the manifest declares, by id (no settings: those stay in the server); absent without connectors. */
  connectors?: Record<string, string>;
}
