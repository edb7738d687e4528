// POSIX shell quoting. Every value that comes from the config or the user goes through here before it
// reaches a command line: nothing is spliced into a shell line unquoted (SPEC section 7).

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for a POSIX shell: `it's` → `'it'\''s'`. Plain words stay readable. */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('shellQuote: argument contains a NUL byte');
  if (SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Quotes each argument and joins them with spaces: a command line from argv. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
