// `job`, `exec` and `env` on the terminal: their result rendered by src/render (or --json), written
// with secrets masked, and the exit code. `env` also keeps the token in a local 0600 file.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { worstExit } from '../engine';
import type { RunResult } from '../engine/types';
import { renderEnvExports } from '../render/env';
import { renderExec } from '../render/exec';
import { renderJob } from '../render/job';
import { errorLines, type Printed } from '../render/printed';
import type { SecretMask } from '../render/secret-mask';
import type { CliSettings } from './args';
import type { CliIO } from './io';

/** Exit status of an interrupted run (128 + SIGINT), as shells report Ctrl-C. */
const INTERRUPTED = 130;

/** Prints a job/exec/env result; returns the exit code. */
export function printUseResult(result: RunResult, s: CliSettings, io: CliIO, mask: SecretMask): number {
  const code = useExitCode(result);
  if (result.command === 'env') return printEnv(result, s, io, mask, code);
  const printed =
    result.command === 'exec'
      ? renderExec(result, s.json)
      : renderJob(result, { json: s.json, config: s.config, action: s.jobAction, noWait: s.noWait });
  write(printed, io, mask);
  return code;
}

function write(printed: Printed[], io: CliIO, mask: SecretMask): void {
  for (const p of printed) (p.stream === 'stdout' ? io.stdout : io.stderr)(mask.apply(p.text));
}

function useExitCode(result: RunResult): number {
  if (result.badInput) return 2;
  if (result.interrupted) return INTERRUPTED;
  if (result.command === 'exec' && result.exec?.length) return worstExit(result.exec);
  return result.ok ? 0 : 1;
}

/** env: exports for the shell. The token goes to a local 0600 file unless --show-token. */
function printEnv(result: RunResult, s: CliSettings, io: CliIO, mask: SecretMask, code: number): number {
  const env = result.env;
  if (!env) {
    io.stderr(mask.apply(errorLines(result.errors)));
    return code;
  }
  const vars: [string, string][] = [
    ['RAY_ADDRESS', env.jobAddress],
    ['RAY_CLIENT_ADDRESS', env.clientAddress],
    ['RAY_GCS_ADDRESS', env.gcsAddress],
    ['RAY_AUTH_MODE', env.authMode],
  ];
  if (env.token) {
    if (s.showToken) vars.push(['RAY_AUTH_TOKEN', env.token]);
    else vars.push(['RAY_AUTH_TOKEN_PATH', writeTokenFile(result.clusterName ?? 'default', env.token, io.env)]);
  }
  // the token is printed here on purpose (only with --show-token): not through the mask
  io.stdout(renderEnvExports(vars, s.format));
  return code;
}

/** ~/.nokube/<cluster>/auth_token, mode 0600 (its directory 0700): Ray's tools read RAY_AUTH_TOKEN_PATH. */
function writeTokenFile(cluster: string, token: string, env: CliIO['env']): string {
  const dir = join(env.HOME || homedir(), '.nokube', cluster);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'auth_token');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}
