/**
 * Reads exact package pins (`name==version`), as written in the manifest's `packages` list or
 * in a requirements file pip-compile wrote (CONTRACT section 11). Anything that is not one
 * exact version of one named package is a problem at its line: gitfunc installs what is pinned
 * and nothing else, so every dependency must be pinned too.
 */

/** A PEP 508 distribution name. */
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
/** A PEP 440 version with no wildcard (`==2.*` is a range, not a pin). */
const VERSION = /^[A-Za-z0-9.+!_-]+$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** A pin read from text, or why the text is not one. */
export type ParsedPin = { name: string; version: string; hashes: string[] } | { error: string };

const PIN_HINT = 'write name==version (one exact version; pin every dependency too, as pip-compile writes them)';

/**
 * Parses one requirement: `name==version`, optionally with extras (`requests[socks]==2.32.3`,
 * ignored: their dependencies must be pinned themselves) and `--hash=sha256:<hex>` options.
 */
export function parsePin(text: string): ParsedPin {
  const [requirement = '', ...options] = text.trim().split(/\s+(?=--)/);
  const hashes: string[] = [];
  for (const option of options) {
    const hash = /^--hash(?:=|\s+)(\w+):(\S+)$/.exec(option.trim());
    if (hash === null) return { error: `'${option.trim()}' is not supported after a pin (only --hash=sha256:<hex>)` };
    const [, algorithm, digest] = hash;
    if (algorithm !== 'sha256' || !SHA256.test(digest!.toLowerCase())) {
      return { error: `'${option.trim()}' is not a sha256 hash (write --hash=sha256:<64 hex digits>)` };
    }
    hashes.push(digest!.toLowerCase());
  }
  if (requirement.includes(';')) {
    return { error: `'${requirement}' has an environment marker: gitfunc installs for one Python (Pyodide's), pin without markers` };
  }
  const match = /^([^\s[=<>!~]+)\s*(?:\[[^\]]*\])?\s*(===?|>=|<=|!=|~=|>|<)?\s*(\S*)$/.exec(requirement);
  if (match === null || !NAME.test(match[1]!)) return { error: `'${requirement}' is not a package pin: ${PIN_HINT}` };
  const [, name, operator, version] = match;
  if (operator === undefined) return { error: `'${requirement}' names no version: ${PIN_HINT}` };
  if ((operator !== '==' && operator !== '===') || version === '' || !VERSION.test(version!) || version!.includes(',')) {
    return { error: `'${requirement}' is not an exact pin: ${PIN_HINT}` };
  }
  return { name: name!, version: version!, hashes };
}

/** One requirement of a requirements file, with the line and column it starts at. */
export interface RequirementLine {
  text: string;
  line: number;
  col: number;
}

/** pip options that choose where pip downloads from: gitfunc has its own sources, so they are ignored. */
const SOURCE_OPTIONS = /^(?:-i|--index-url|--extra-index-url|--trusted-host|--find-links|-f|--no-index|--prefer-binary|--only-binary|--no-binary)\b/;

/**
 * Splits requirements file text into requirements: comments dropped, `\` line continuations
 * joined (pip-compile writes each `--hash` on its own continued line), blank lines skipped.
 * pip options are warnings (source options, ignored) or problems (anything else, such as `-r`).
 */
export function requirementLines(source: string): { requirements: RequirementLine[]; options: (RequirementLine & { ignored: boolean })[] } {
  const requirements: RequirementLine[] = [];
  const options: (RequirementLine & { ignored: boolean })[] = [];
  const lines = source.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const startLine = i + 1;
    let text = stripComment(lines[i]!);
    while (text.endsWith('\\') && i + 1 < lines.length) {
      i++;
      text = `${text.slice(0, -1)} ${stripComment(lines[i]!)}`;
    }
    if (text.endsWith('\\')) text = text.slice(0, -1);
    const trimmed = text.trim();
    if (trimmed === '') continue;
    const col = text.length - text.trimStart().length + 1;
    const entry = { text: trimmed, line: startLine, col };
    if (trimmed.startsWith('-')) options.push({ ...entry, ignored: SOURCE_OPTIONS.test(trimmed) });
    else requirements.push(entry);
  }
  return { requirements, options };
}

/** A line without its comment: `#` at the start or after whitespace, as pip reads it. */
function stripComment(line: string): string {
  const at = /(^|\s)#/.exec(line);
  return at === null ? line : line.slice(0, at.index);
}
