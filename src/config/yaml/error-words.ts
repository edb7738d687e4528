// The YAML library's syntax errors rewritten into what happened and what to do, placed at the most
// useful spot, and the everyday slips (an unquoted [IPv6]:port, `name:value` without a space, a
// mapping on its key's own line) named as such.
import { Scalar, visit } from 'yaml';
import type { Document, YAMLError } from 'yaml';
import { KEYS_BY_SECTION } from '../schema';

interface Words {
  message: string;
  hint: string;
}

/** Rewrites the YAML library's errors into what happened and what to do, at the most useful spot. */
export function describeYamlError(
  problem: YAMLError,
  text: string,
  doc: Document.Parsed,
): { offset: number; words: Words } | undefined {
  const [start, end] = problem.pos;
  if (problem.code !== 'DUPLICATE_KEY') {
    const slip = commonSlip(text, start);
    if (slip) return slip;
  }
  switch (problem.code) {
    case 'TAB_AS_INDENT':
      return {
        offset: start,
        words: {
          message: 'a tab is used for indentation',
          hint: 'YAML indents with spaces only: replace the tab with spaces',
        },
      };
    case 'DUPLICATE_KEY': {
      const key = /^["']?([^"':\n]*)/.exec(text.slice(start))?.[1]?.trim() ?? '';
      return {
        offset: start,
        words: {
          message: `key \`${key}\` appears twice in the same mapping`,
          hint: 'the later one is used: remove or rename one of them',
        },
      };
    }
    case 'MULTILINE_IMPLICIT_KEY': {
      const newline = text.indexOf('\n', start);
      let offset = newline >= 0 && newline < end ? newline + 1 : start;
      while (text[offset] === ' ') offset += 1;
      return {
        offset,
        words: {
          message: 'this line is indented deeper than the key above it, so YAML reads it as part of the value before',
          hint: 'line it up with the other keys of the same mapping',
        },
      };
    }
    case 'BLOCK_AS_IMPLICIT_KEY':
      // Reported together with MULTILINE_IMPLICIT_KEY when the cause is indentation; alone, it is a `: ` in a value.
      if (doc.errors.some((e) => e.code === 'MULTILINE_IMPLICIT_KEY' && e.pos[0] === start)) return undefined;
      return {
        offset: start,
        words: {
          message: 'a value cannot contain `: ` unless it is quoted',
          hint: 'put the value in quotes, e.g. name: "a: b"',
        },
      };
    case 'BAD_INDENT':
      if (/flow/i.test(problem.message)) {
        return {
          offset: start,
          words: { message: 'a `[` or `{` list is not closed', hint: 'close it with `]` or `}` before the next key' },
        };
      }
      return {
        offset: start,
        words: {
          message: 'inconsistent indentation: the keys of one mapping must start in the same column',
          hint: 'line this key up with the keys above it, using spaces',
        },
      };
    case 'MISSING_CHAR': {
      const quote = /closing (["'])/.exec(problem.message)?.[1];
      if (quote) {
        return {
          offset: openingQuote(doc, text, start, quote),
          words: {
            message: `unclosed ${quote === '"' ? 'double' : 'single'} quote: the string starting here never ends`,
            hint: `add the closing ${quote} at the end of the value`,
          },
        };
      }
      if (/sequence item/i.test(problem.message)) {
        let offset = start;
        while (text[offset] === ' ') offset += 1;
        return {
          offset,
          words: {
            message: 'this line is indented less than the list item above it, but more than the list',
            hint: 'indent it like the keys of that item, or start a new item with `- `',
          },
        };
      }
      break;
    }
    case 'UNEXPECTED_TOKEN':
      if (text[start] === '\t') {
        return {
          offset: start,
          words: {
            message: 'a tab is used for indentation',
            hint: 'YAML indents with spaces only: replace the tab with spaces',
          },
        };
      }
      break;
    case 'MULTIPLE_DOCS':
      return undefined; // reported once, by the caller
  }
  return {
    offset: start,
    words: {
      message: `YAML syntax error: ${problem.message.replace(/\s+at line \d+, column \d+.*$/s, '')}`,
      hint: 'check the indentation (spaces only) and the quoting on this line and the one above',
    },
  };
}

const KNOWN_KEYS = new Set(Object.values(KEYS_BY_SECTION).flat());

/** The line holding an offset: its start offset and its text. */
function lineAt(text: string, offset: number): { start: number; line: string } {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const end = text.indexOf('\n', offset);
  return { start, line: text.slice(start, end < 0 ? undefined : end) };
}

/**
 * The slips people make every day, which the parser reports in its own terms or on a later line:
 * an unquoted `[IPv6]:port`, `name:ray-head` (no space after the colon), `ray_config: port: 10001`
 * (a mapping on the key's own line).
 */
function commonSlip(text: string, offset: number): { offset: number; words: Words } | undefined {
  const { start, line } = lineAt(text, offset);

  const ipv6 = /^(\s*(?:-\s+)?[\w-]+:\s+)(\[[\w.%]*:[\w:.%]*\])(:\d*)?\s*(#.*)?$/.exec(line);
  if (ipv6) {
    return {
      offset: start + ipv6[1]!.length,
      words: {
        message: `an IPv6 address in brackets must be quoted: YAML reads ${ipv6[2]} as a list`,
        hint: `put it in quotes: "${ipv6[2]}${ipv6[3] ?? ''}"`,
      },
    };
  }

  const inline = /^(\s*(?:-\s+)?)([\w-]+):\s+([\w-]+):\s+(\S.*)$/.exec(line);
  if (inline && KNOWN_KEYS.has(inline[3]!)) {
    return {
      offset: start + line.indexOf(inline[3]!, inline[1]!.length + inline[2]!.length + 1),
      words: {
        message: `\`${inline[3]}\` is a key inside ${inline[2]}, so it needs its own line`,
        hint: `write \`${inline[2]}:\` alone, then \`${inline[3]}: ${inline[4]!.trim()}\` on the next line, indented two more spaces (or \`${inline[2]}: {${inline[3]}: ${inline[4]!.trim()}}\`)`,
      },
    };
  }

  // `name:ray-head` is one plain word to YAML; the parser trips over it on this line or the next.
  for (let at = start, n = 0; at > 0 || n === 0; n++) {
    const here = lineAt(text, at);
    const glued = /^(\s*(?:-\s+)?)([\w-]+):([^\s/:][^\s]*)\s*(#.*)?$/.exec(here.line);
    if (glued && KNOWN_KEYS.has(glued[2]!)) {
      return {
        offset: here.start + glued[1]!.length,
        words: {
          message: `\`${glued[2]}:${glued[3]}\` has no space after the colon, so YAML reads it as one word, not a key and its value`,
          hint: `add a space after the colon: \`${glued[2]}: ${glued[3]}\``,
        },
      };
    }
    if (n >= 2 || here.start === 0) break;
    at = here.start - 1;
  }
  return undefined;
}

/** The unclosed quote is where the string starts, not where the file ends. */
function openingQuote(doc: Document.Parsed, text: string, errorOffset: number, quote: string): number {
  let best: number | undefined;
  visit(doc, {
    Scalar(_key, node: Scalar) {
      const type = quote === '"' ? Scalar.QUOTE_DOUBLE : Scalar.QUOTE_SINGLE;
      const range = node.range;
      if (node.type === type && range && range[0] <= errorOffset && range[1] >= errorOffset) {
        if (best === undefined || range[0] > best) best = range[0];
      }
    },
  });
  if (best !== undefined) return best;
  const fallback = text.lastIndexOf(quote, errorOffset - 1);
  return fallback >= 0 ? fallback : errorOffset;
}
