// What the CLI gets of its process: where it writes, its environment, whether it talks to a terminal.
// Every command of the CLI takes it (and main() gets it from index.ts, tests give their own).

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  isTTY: boolean;
  /** Fires on Ctrl-C: a followed job / running exec stops being followed. */
  signal?: AbortSignal;
  /** Asks on the terminal and resolves with the line typed; absent when there is no terminal to ask on. */
  ask?: (prompt: string) => Promise<string>;
}
