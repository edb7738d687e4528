// Collecting findings while checking a config, and showing them in a terminal.
import type { Diagnostic, Severity, SourcePos } from './types';
import type { SourceIndex } from './yaml/source-index';

export interface FindingDetails {
  hint?: string;
  /** Point at the key (`num_cpu:`) rather than at its value; unknown and misplaced keys use this. */
  at?: 'key' | 'value';
  /** An exact position, when the finding is about part of a value. */
  pos?: SourcePos;
  node?: string;
}

/** Collects diagnostics for one file, placing each at the source position of its path. */
export class Findings {
  readonly list: Diagnostic[] = [];

  constructor(
    readonly file: string,
    private readonly index: SourceIndex,
  ) {}

  error(path: string, message: string, details: FindingDetails = {}): void {
    this.add('error', path, message, details);
  }

  warning(path: string, message: string, details: FindingDetails = {}): void {
    this.add('warning', path, message, details);
  }

  get hasErrors(): boolean {
    return this.list.some((d) => d.severity === 'error');
  }

  private add(severity: Severity, path: string, message: string, details: FindingDetails): void {
    const pos = details.pos ?? this.index.positionOf(path, details.at ?? 'value');
    const diagnostic: Diagnostic = { severity, file: this.file, line: pos.line, col: pos.col, path, message };
    if (details.hint !== undefined) diagnostic.hint = details.hint;
    if (details.node !== undefined) diagnostic.node = details.node;
    this.list.push(diagnostic);
  }
}

/** By line, then column; errors before warnings at the same spot. Stable otherwise. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics
    .map((d, order) => ({ d, order }))
    .sort(
      (a, b) =>
        a.d.line - b.d.line ||
        a.d.col - b.d.col ||
        (a.d.severity === b.d.severity ? 0 : a.d.severity === 'error' ? -1 : 1) ||
        a.order - b.order,
    )
    .map(({ d }) => d);
}

const NODES_SHOWN = 10;

/**
 * One warning per kind: the same warning on several nodes (a 1,000-node config without `users`)
 * becomes one, at the first node, naming them all in `nodes` and the first few in its message.
 */
export function groupWarnings(diagnostics: Diagnostic[]): Diagnostic[] {
  const kinds = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    if (d.severity !== 'warning' || d.node === undefined) continue;
    const kind = `${d.path.replace(/^nodes\[\d+\]/, 'nodes[]')}\u0000${d.message}\u0000${d.hint ?? ''}`;
    kinds.set(kind, [...(kinds.get(kind) ?? []), d]);
  }
  const merged = new Map<Diagnostic, Diagnostic | null>();
  for (const group of kinds.values()) {
    if (group.length < 2) continue;
    const [first, ...rest] = group as [Diagnostic, ...Diagnostic[]];
    const names = group.map((d) => d.node!);
    const shown = names.slice(0, NODES_SHOWN).join(', ');
    const more = names.length > NODES_SHOWN ? ` and ${names.length - NODES_SHOWN} more` : '';
    const { node: _node, ...place } = first;
    merged.set(first, {
      ...place,
      path: first.path.replace(/^nodes\[\d+\]/, 'nodes[]'),
      message: `${first.message} (${names.length} nodes: ${shown}${more})`,
      nodes: names,
    });
    for (const d of rest) merged.set(d, null);
  }
  if (merged.size === 0) return diagnostics;
  return diagnostics.flatMap((d) => {
    const replaced = merged.get(d);
    return replaced === undefined ? [d] : replaced === null ? [] : [replaced];
  });
}

/** Errors first (by line), then warnings: the one real error is never below a page of warnings. */
export function errorsFirst(diagnostics: Diagnostic[]): Diagnostic[] {
  return [...diagnostics.filter((d) => d.severity === 'error'), ...diagnostics.filter((d) => d.severity !== 'error')];
}

/** `file:line:col: error: <path>: <message> (hint: ...)`, the shape editors and terminals link. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.path ? `${d.path}: ` : '';
  const hint = d.hint ? ` (hint: ${d.hint})` : '';
  return `${d.file}:${d.line}:${d.col}: ${d.severity}: ${where}${d.message}${hint}`;
}
