// Text from the config and from the nodes (names, hosts, error messages, Ray's output) is data: it
// must not steer a terminal (control characters), a workflow log (`::command::` lines) or markdown
// (headings, links, images, @mentions). Secrets are masked first, on the raw text, since escaping or
// JSON-encoding a secret changes its spelling and a mask applied afterwards would miss it.

/**
 * Every string inside `value` (objects and arrays, deeply) passed through `f`; the input is not changed.
 * What `f` leaves as it is, is not copied (a 17,000-node result was copied whole, twice, to mask nothing).
 */
export function mapStrings<T>(value: T, f: (s: string) => string): T {
  if (typeof value === 'string') return f(value) as T;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const mapped = mapStrings(v, f);
      if (mapped !== v) (out ??= [...value])[i] = mapped;
    });
    return (out ?? value) as T;
  }
  if (value && typeof value === 'object') {
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const mapped = mapStrings(v, f);
      if (mapped !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = mapped;
    }
    return (out ?? value) as T;
  }
  return value;
}

/**
 * C0 and C1 control characters (ESC, CR, BEL, backspace, CSI ...) shown as `\xNN`, so a value cannot
 * move the cursor, recolour, retitle or clear the terminal. Newlines and tabs stay.
 */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Each line of `text` prefixed with `prefix` for a workflow log: the runner executes a line that
 * starts (after spaces) with `::` (`::add-mask::`, `::stop-commands::`, `::error::`), so no line of
 * ours may start with one. Without a prefix, only such lines get `| ` in front.
 */
export function logLines(prefix: string, text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => {
      const out = `${prefix}${line}`;
      return out.trimStart().startsWith('::') ? `| ${out}` : out;
    })
    .join('\n');
}
