// The terminal reporter: one line per node as it progresses, on stderr, secrets masked.
import type { Reporter } from '../engine/types';
import { escapeControls } from '../render/safe-text';
import type { SecretMask } from '../render/secret-mask';

export function terminalReporter(write: (line: string) => void, mask: SecretMask, debug: boolean): Reporter {
  const started = Date.now();
  const stamp = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
  // masked on the raw text, then control characters (from nodes, from the config) made visible
  const out = (line: string) => write(escapeControls(mask.apply(line)) + '\n');
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
