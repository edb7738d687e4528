// The YAML parser may report one problem twice: each reading keeps one diagnostic per position.
import type { Diagnostic } from '../types';

/** A diagnostic said once per position (the parser may report one problem twice). */
export function dedupeByPosition(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.line}:${d.col}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
