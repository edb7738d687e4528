// Literal passwords written in the config (the config check warns about them): found in the raw text
// so they are masked before the engine runs, even when the config is otherwise invalid.

/** The literal (not `${NAME}`) password values of a config's text. */
export function literalPasswords(text: string): string[] {
  const found: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*#/.test(line)) continue;
    // Block style: `password: value`, `- password: "value"`; a plain value runs to ` #` or the line end.
    const block = line.match(/^\s*(?:-\s+)?password\s*:\s*(.*)$/);
    if (block) {
      found.push(scalar(block[1], /\s+#.*$/));
      continue;
    }
    // Flow style: `{userid: u, password: value}`; a plain value ends at `,` or `}`.
    for (const m of line.matchAll(/[{,]\s*password\s*:\s*([^,}]*(?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*')?[^,}]*)/g)) {
      found.push(scalar(m[1], /\s+#.*$/));
    }
  }
  return found.filter((v) => v && !v.includes('${'));
}

function scalar(raw: string, comment: RegExp): string {
  const text = raw.trim();
  const dq = text.match(/^"((?:[^"\\]|\\.)*)"/);
  if (dq) return dq[1].replace(/\\(.)/g, '$1');
  const sq = text.match(/^'((?:[^']|'')*)'/);
  if (sq) return sq[1].replace(/''/g, "'");
  return text.replace(comment, '').trim();
}
