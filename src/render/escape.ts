// Escaping for everything that reaches markdown: values from the config (node names, hosts, errors
// quoting the user's YAML) must never become HTML or break a table.

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** HTML-escapes text for markdown prose (GitHub renders inline HTML, so `<script>` must not survive). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML[c]);
}

/** Escapes one table cell: HTML, the column separator `|`, and line breaks (a cell is one line). */
export function escapeCell(text: string, maxChars = 500): string {
  const clipped = text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
  return escapeHtml(clipped).replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** Inline code as HTML: a markdown code span would show `&lt;` literally, and cannot hold a backtick. */
export function escapeCode(text: string): string {
  return `<code>${escapeHtml(text).replace(/\|/g, '&#124;')}</code>`;
}

/** A value safe inside an HTML comment (the sticky marker): no `--` and no `>`. */
export function escapeComment(text: string): string {
  return text
    .replace(/-(?=-)/g, '-\u200b')
    .replace(/>/g, '&gt;')
    .replace(/\r?\n/g, ' ');
}

/** Removes ANSI colour codes (for measuring terminal column widths). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}
