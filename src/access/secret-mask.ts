/**
 * Masks resolved secret values (CONTRACT section 1) in text that leaves the server: print
 * output and tracebacks in task records and error bodies, and revision problems in logs.
 */

/** Replaces every secret in `text` with `***`. */
export type SecretMask = (text: string) => string;

export const MASKED = '***';

/**
 * A mask for `secrets`, or undefined when there are none: callers check for undefined, so a
 * revision without secrets pays nothing. Longer secrets win where two overlap.
 */
export function secretMask(secrets: readonly string[]): SecretMask | undefined {
  const values = [...new Set(secrets)].filter((s) => s !== '').sort((a, b) => b.length - a.length);
  if (values.length === 0) return undefined;
  const pattern = new RegExp(values.map(escapeRegExp).join('|'), 'g');
  return (text) => text.replace(pattern, MASKED);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
