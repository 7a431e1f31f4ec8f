/**
 * Formats a run's captured `print` output for its task record. The worker already capped
 * each line and kept the head and tail of a long log (gitfunc_runtime.CallLog); here each
 * line gets the wall-clock time and the ms elapsed since the call started.
 */
export function formatPrintLog(logJson: string, startedAt: number): string {
  const lines = JSON.parse(logJson) as [number, string][];
  let text = '';
  for (const [elapsedMs, line] of lines) {
    text += `[${new Date(startedAt + elapsedMs).toISOString()}] [+${elapsedMs}ms] ${line}\n`;
  }
  return text;
}
