/** One exact pin of a revision's `packages` (CONTRACT section 11), and where it was written. */
export interface PackagePin {
  /** As written, e.g. `charset-normalizer`. */
  name: string;
  /** As written after `==`, e.g. `3.4.0`. */
  version: string;
  /** sha256 digests (hex) of `--hash=sha256:...`: when any is given, the wheel must match one. */
  hashes: string[];
  /** The file the pin was written in (`gitfunc.yaml` or the requirements file), relative to the revision directory. */
  file: string;
  line: number;
  col: number;
}

/** A package name as PEP 503 compares names: `Charset_Normalizer` is `charset-normalizer`. */
export function normalizedName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}
