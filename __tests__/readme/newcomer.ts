// The README's newcomer section, as commands: read by the README test (they parse) and by the init
// end-to-end test (they run against test hosts).

/** The lines of the bash block between `<!-- newcomer:start -->` and `<!-- newcomer:end -->`. */
export function newcomerCommands(readme: string): string[] {
  const section = /<!-- newcomer:start -->\n```bash\n([\s\S]*?)```\n<!-- newcomer:end -->/.exec(readme);
  if (!section) throw new Error('README.md has no <!-- newcomer:start --> bash block');
  return section[1].split('\n').filter((l) => l && !l.startsWith('#'));
}

/** A command line's words as the shell splits them: blanks between words, '...' and "..." quoting. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      word ??= '';
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (quote) throw new Error(`unclosed ${quote} in: ${line}`);
  if (word !== undefined) words.push(word);
  return words;
}
