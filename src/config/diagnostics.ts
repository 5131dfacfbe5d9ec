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

/** Longest message text printed; longer ones (a huge token echoed back) are cut. */
export const MAX_DIAGNOSTIC_LENGTH = 300;

/** Formats a diagnostic as `file:line: message` (or `file: message` without a line). */
export function formatDiagnostic(d: Diagnostic): string {
  const message = d.message.length <= MAX_DIAGNOSTIC_LENGTH
    ? d.message
    : `${d.message.slice(0, MAX_DIAGNOSTIC_LENGTH)}... (${d.message.length} characters)`;
  return d.line === null ? `${d.file}: ${message}` : `${d.file}:${d.line}: ${message}`;
}
