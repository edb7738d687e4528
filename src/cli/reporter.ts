// The terminal reporter: one line per node as it progresses, on stderr, secrets masked.
import type { Reporter } from '../engine/types';

export class SecretMask {
  private readonly secrets = new Set<string>();

  add(value: string): void {
    for (const v of [value, ...value.split(/\r?\n/)]) {
      if (v.trim().length >= 4) this.secrets.add(v.trim());
    }
  }

  apply(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is masked whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
    return out;
  }
}

export function terminalReporter(write: (line: string) => void, mask: SecretMask, debug: boolean): Reporter {
  const started = Date.now();
  const stamp = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
  const out = (line: string) => write(mask.apply(line) + '\n');
  return {
    node: (name, message, elapsedMs) =>
      out(
        `${stamp()}  ${name.padEnd(20)} ${message}${elapsedMs !== undefined ? ` (${(elapsedMs / 1000).toFixed(2)}s)` : ''}`,
      ),
    info: (message) => out(`${stamp()}  ${message}`),
    warn: (message) => out(`${stamp()}  warning: ${message}`),
    debug: (message) => {
      if (debug) out(`${stamp()}  debug: ${message}`);
    },
    secret: (value) => mask.add(value),
  };
}
