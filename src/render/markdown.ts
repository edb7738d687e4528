// Markdown building blocks: tables and lists that escape every cell and can be cut to fit a size cap.
import { escapeCell, escapeHtml } from './escape';
import type { Row } from './model';

/** A GitHub-flavoured table of at most `maxRows` rows; the cut is said in a last line, never silent. */
export function markdownTable(columns: readonly string[], rows: Row[], maxRows = Infinity, what = 'rows'): string {
  if (rows.length === 0) return '';
  const shown = rows.slice(0, maxRows);
  const lines = [
    `| ${columns.map((c) => escapeCell(c)).join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...shown.map((r) => `| ${r.map((cell) => escapeCell(cell)).join(' | ')} |`),
  ];
  if (shown.length === 0) lines.length = 0;
  const cut = truncationNote(rows.length, shown.length, what);
  return [...lines, ...(cut ? ['', cut] : [])].join('\n');
}

/** A bullet list of already-escaped markdown items, at most `maxItems`. */
export function markdownList(items: string[], maxItems = Infinity, what = 'items'): string {
  if (items.length === 0) return '';
  const shown = items.slice(0, maxItems);
  const cut = truncationNote(items.length, shown.length, what);
  return [...shown.map((i) => `- ${i}`), ...(cut ? [cut] : [])].join('\n');
}

export function truncationNote(total: number, shown: number, what: string): string {
  if (shown >= total) return '';
  return `<i>${total - shown} more ${escapeHtml(what)} not shown here (size limit): see the step's outputs and log.</i>`;
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * The largest `limit` in [0, max] for which `render(limit)` fits `cap` (rendering is monotone in
 * the limit). Falls back to limit 0 when nothing fits; the caller then applies a hard cut.
 */
export function fitLimit(
  render: (limit: number) => string,
  measure: (s: string) => number,
  cap: number,
  max: number,
): string {
  const full = render(Infinity);
  if (measure(full) <= cap) return full;
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(render(mid)) <= cap) lo = mid;
    else hi = mid - 1;
  }
  return render(lo);
}

/** A last resort when even the shortest rendering is too large: cut by characters with a note. */
export function hardCut(text: string, measure: (s: string) => number, cap: number): string {
  if (measure(text) <= cap) return text;
  const note = '\n\n<i>Cut here: the rest is over the size limit; see the step log.</i>\n';
  let end = Math.max(0, cap - measure(note));
  while (end > 0 && measure(text.slice(0, end)) + measure(note) > cap) end = Math.floor(end * 0.95);
  // Do not leave half an HTML entity or tag at the end.
  const head = text.slice(0, end).replace(/<[^>]*$|&[a-z#0-9]*$/i, '');
  return head + note;
}
