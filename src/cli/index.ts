import { createInterface } from 'node:readline';
import { main } from './main';

/** One line read from the terminal (cooked mode: Ctrl-C stays a SIGINT), the prompt on stderr. */
function ask(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const rl = createInterface({ input: process.stdin, terminal: false });
  return new Promise((resolve) => {
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      if (!answered) resolve('');
    });
  });
}

// Ctrl-C once: stop following what runs on the cluster (it keeps running) and report; twice: quit.
// `dashboard` closes its forwards on SIGINT itself (exit 0), as does `status --watch`. Other commands end at once, as before.
const argv = process.argv.slice(2);
const words = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
const follows = words.includes('job') || words.includes('exec');
// `status --watch` too: Ctrl-C ends the watch with exit 0.
const ownHandler = words.includes('dashboard') || words.some((w) => /^(--watch(=.*)?|-w)$/.test(w));
const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (ownHandler) return;
  if (interrupt.signal.aborted || !follows) process.exit(130);
  interrupt.abort();
});

main(argv, {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  isTTY: !!process.stdout.isTTY,
  signal: interrupt.signal,
  ...(process.stdin.isTTY ? { ask } : {}),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`nokube: internal error: ${(err as Error)?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
