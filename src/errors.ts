/**
 * Every error gitfunc raises on purpose: a stable `code`, plain `data`, and `toJSON()` so it
 * survives crossing a worker boundary or being logged.
 */
export class GitfuncError extends Error {
  readonly code: string;
  readonly data: Record<string, unknown>;

  constructor(code: string, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = 'GitfuncError';
    this.code = code;
    this.data = data;
  }

  toJSON(): { code: string; message: string; data: Record<string, unknown> } {
    return { code: this.code, message: this.message, data: this.data };
  }
}

/** A position in a file of the functions repository, 1-based. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/** One problem found in a functions repository (manifest or script). */
export interface Problem extends SourcePosition {
  severity: 'error' | 'warning';
  message: string;
}

/** `path:line:col message`, the form `gitfunc check` prints and status pages show. */
export function formatProblem(problem: Problem): string {
  const tag = problem.severity === 'warning' ? 'warning: ' : '';
  return `${problem.file}:${problem.line}:${problem.col} ${tag}${problem.message}`;
}

/** A repository revision that must not be served, with every problem found in it. */
export class RevisionInvalidError extends GitfuncError {
  readonly problems: Problem[];

  constructor(problems: Problem[]) {
    const errors = problems.filter((p) => p.severity === 'error');
    super('REVISION_INVALID', `revision has ${errors.length} error(s):\n${errors.map(formatProblem).join('\n')}`, {
      problems,
    });
    this.name = 'RevisionInvalidError';
    this.problems = problems;
  }
}
