// Escaping for everything that reaches markdown: values from the config (node names, hosts, errors
// quoting the user's YAML) must never become HTML or break a table.

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** HTML-escapes text for markdown prose (GitHub renders inline HTML, so `<script>` must not survive). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML[c]);
}

/**
 * Text from the config or a node as markdown prose: HTML escaped, `[` `]` as entities (no link or
 * image), a leading `#` escaped (no heading), line breaks as `<br>` (a line cannot start a heading or
 * a list), and no mention, issue reference or autolink: a zero-width space after `@` and before the
 * digits of `#12`, and inside `://` and `www.`. (An entity would not do for `@`: GitHub decodes
 * entities before it looks for mentions, so `&#64;octocat` still notifies octocat.)
 */
export function escapeText(text: string): string {
  // one pass: the comment and summary are re-rendered many times while fitted to their size caps
  return text
    .replace(
      TEXT_SPECIAL,
      (m) => TEXT_ENTITY[m] ?? (m[0] === '\r' || m[0] === '\n' ? '<br>' : `${m.slice(0, -1)}\u200b${m.slice(-1)}`),
    )
    .replace(/^(\s*)#/, '$1&#35;');
}

const TEXT_ENTITY: Record<string, string> = { ...HTML, '[': '&#91;', ']': '&#93;', '@': '@\u200b', '#': '#\u200b' };
const TEXT_SPECIAL = /[&<>"'[\]@]|#(?=\d)|\r\n|\r|\n|:\/(?=\/)|\bwww(?=\.)/gi;

/** Escapes one table cell: HTML, markdown, the column separator `|`, and line breaks (a cell is one line). */
export function escapeCell(text: string, maxChars = 500): string {
  const clipped = text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
  return escapeText(clipped).replace(/\|/g, '\\|');
}

/** Inline code as HTML: a markdown code span would show `&lt;` literally, and cannot hold a backtick. */
export function escapeCode(text: string): string {
  return `<code>${escapeText(text).replace(/\|/g, '&#124;')}</code>`;
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
