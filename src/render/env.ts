// `env` for the terminal: the variables Ray's own tools read, as exports for a shell (sh, fish) or
// JSON. The caller decides where the token goes (a file, or with --show-token the value itself).

export type EnvFormat = 'sh' | 'fish' | 'json';

function shellWord(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

export function renderEnvExports(vars: [string, string][], format: EnvFormat | string | undefined): string {
  if (format === 'json') return JSON.stringify(Object.fromEntries(vars), null, 2) + '\n';
  if (format === 'fish') return vars.map(([k, v]) => `set -gx ${k} ${shellWord(v)};\n`).join('');
  return vars.map(([k, v]) => `export ${k}=${shellWord(v)}\n`).join('');
}
