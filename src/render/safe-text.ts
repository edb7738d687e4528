// Text from the config and from the nodes (names, hosts, error messages, Ray's output) is data: it
// must not steer a terminal (control characters), a workflow log (`::command::` lines) or markdown
// (headings, links, images, @mentions). Secrets are masked first, on the raw text, since escaping or
// JSON-encoding a secret changes its spelling and a mask applied afterwards would miss it.
import { randomBytes } from 'node:crypto';

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
 * starts (after white space) with `::` (`::add-mask::`, `::stop-commands::`, `::error::`), so no line
 * of ours may start with one. Without a prefix, only such lines get `| ` in front. The runner also
 * obeys the older `##[error]` anywhere in a line: a zero-width space breaks it.
 */
export function logLines(prefix: string, text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => {
      const out = `${prefix}${line}`.replace(/##\[/g, '##\u200b[');
      // the runner trims .NET's white space, which (unlike JavaScript's) includes U+0085
      return out.replace(/^[\s\u0085]+/, '').startsWith('::') ? `| ${out}` : out;
    })
    .join('\n');
}

/**
 * Text for a workflow log that must be read as data, whatever it holds (a job's own log, printed as
 * it is): wrapped in `::stop-commands::TOKEN` ... `::TOKEN::`, as GitHub advises, so the runner
 * obeys no command in it. A fresh random token each time: the text cannot know it to resume early.
 */
export function commandsStopped(text: string, token = randomBytes(16).toString('hex')): string {
  return `::stop-commands::${token}\n${text}\n::${token}::`;
}
