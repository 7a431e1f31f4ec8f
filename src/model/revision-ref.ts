/** A revision as a worker needs it: where its files are and its resolved `env`. */
export interface RevisionRef {
  /** The commit id; namespaces in a worker are keyed by it. */
  id: string;
  dir: string;
  env: Record<string, string>;
}
