/**
 * Located configuration messages: every error or warning about a configuration names the
 * file and, when known, the line, as `file:line: message`.
 *
 * @module
 */

/** One error or warning found while reading a configuration. */
export interface Diagnostic {
  /** File the message is about. */
  file: string;
  /** 1-based line number, or null when the message concerns the whole file. */
  line: number | null;
  /** Human-readable text, without the location prefix. */
  message: string;
}

/** Formats a diagnostic as `file:line: message` (or `file: message` without a line). */
export function formatDiagnostic(d: Diagnostic): string {
  return d.line === null ? `${d.file}: ${d.message}` : `${d.file}:${d.line}: ${d.message}`;
}
