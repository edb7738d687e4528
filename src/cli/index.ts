import { main } from './main';

main(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  isTTY: !!process.stdout.isTTY,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`nokube: internal error: ${(err as Error)?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
