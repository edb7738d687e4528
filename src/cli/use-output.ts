// What `job`, `exec` and `env` print: their result in the user's words (or --json), and the live
// output of what runs on the cluster (a job's log as it is; exec's lines prefixed with the node).
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { worstExit } from '../engine';
import { shortJobMessage } from '../engine/job';
import type { JobReport, RunResult } from '../engine/types';
import type { SecretMask } from '../render/secret-mask';
import type { CliIO } from './main';
import type { CliSettings } from './args';

/** Exit status of an interrupted run (128 + SIGINT), as shells report Ctrl-C. */
const INTERRUPTED = 130;

/** Live output: a job's log goes to stdout as it is; exec's lines get a `node | ` prefix. */
export function liveOutput(io: CliIO, mask: SecretMask, prefixNodes: boolean) {
  const pending = new Map<string, string>();
  const write = (stream: 'stdout' | 'stderr', text: string) => (stream === 'stdout' ? io.stdout : io.stderr)(text);
  return {
    output(text: string, stream: 'stdout' | 'stderr', node?: string): void {
      if (!prefixNodes || !node) return write(stream, mask.apply(text));
      const key = `${node}\0${stream}`;
      const buf = (pending.get(key) ?? '') + text;
      const cut = buf.lastIndexOf('\n');
      pending.set(key, cut < 0 ? buf : buf.slice(cut + 1));
      if (cut < 0) return;
      const lines = buf.slice(0, cut).split('\n');
      write(stream, lines.map((l) => `${node} | ${mask.apply(l)}\n`).join(''));
    },
    /** Whatever a node printed without a final newline. */
    flush(): void {
      for (const [key, rest] of pending) {
        if (!rest) continue;
        const [node, stream] = key.split('\0') as [string, 'stdout' | 'stderr'];
        write(stream, `${node} | ${mask.apply(rest)}\n`);
      }
      pending.clear();
    },
  };
}

function when(ms: number | null): string {
  return ms ? new Date(ms).toISOString().replace('.000Z', 'Z') : '-';
}

function jobJson(j: JobReport) {
  return { job_id: j.job_id, status: j.status, message: j.message, start_time: j.start_time, end_time: j.end_time };
}

function errorLines(result: RunResult): string {
  return result.errors
    .map((e) => `error: ${e.node ? `${e.node}: ` : ''}${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}\n`)
    .join('');
}

/** Prints a job/exec/env result; returns the exit code. */
export function printUseResult(result: RunResult, s: CliSettings, io: CliIO, mask: SecretMask): number {
  const out = (t: string) => io.stdout(mask.apply(t));
  const err = (t: string) => io.stderr(mask.apply(t));
  const code = useExitCode(result);
  if (result.command === 'exec') {
    if (s.json) out(JSON.stringify(result.exec ?? [], null, 2) + '\n');
    else if (!result.exec?.length || result.badInput) err(errorLines(result));
    else {
      for (const r of result.exec.filter((x) => x.exit_code !== 0)) {
        err(`${r.node}: ${r.error ?? `exit ${r.exit_code}`}\n`);
      }
    }
    return code;
  }
  if (result.command === 'env') return printEnv(result, s, io, mask, code);

  // job
  if (s.json) {
    if (result.jobs) out(JSON.stringify(result.jobs.map(jobJson), null, 2) + '\n');
    else if (result.job) out(JSON.stringify(jobJson(result.job), null, 2) + '\n');
    else if (result.jobLogs !== undefined) out(JSON.stringify({ logs: result.jobLogs }) + '\n');
    else out(JSON.stringify({ errors: result.errors }, null, 2) + '\n');
    if (result.job || result.jobs) err(errorLines(result));
    return code;
  }
  if (result.jobLogs !== undefined) out(result.jobLogs);
  if (result.jobs) {
    const rows = result.jobs.map((j) => [j.job_id, j.status, when(j.start_time), when(j.end_time), j.entrypoint ?? '']);
    const head = ['JOB ID', 'STATUS', 'STARTED', 'ENDED', 'ENTRYPOINT'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]) : c)).join('  ') + '\n';
    out(rows.length ? [head, ...rows].map(line).join('') : 'no jobs on this cluster\n');
  }
  const job = result.job;
  if (job && s.jobAction !== 'list') {
    const stopHint = `nokube ray job stop --config ${s.config} ${job.job_id}`;
    if (result.interrupted) {
      err(`\nstopped following job ${job.job_id} (${job.status}); it keeps running on the cluster.\n`);
      err(`  its log:   nokube ray job logs --config ${s.config} ${job.job_id}\n  stop it:   ${stopHint}\n`);
      return code;
    }
    if (job.log_tail && (s.noWait || s.jobAction !== 'submit')) {
      err(`last lines of its log:\n${job.log_tail.replace(/^/gm, '  ')}\n`);
    }
    err(`job ${job.job_id}: ${job.status}${job.message ? ` (${shortJobMessage(job.message)})` : ''}\n`);
    // the line above already says why the job failed
    result = { ...result, errors: result.errors.filter((e) => !e.message.startsWith(`job ${job.job_id} `)) };
    if (s.jobAction === 'submit' && s.noWait) {
      err(`  follow it: nokube ray job logs --config ${s.config} ${job.job_id}\n  stop it:   ${stopHint}\n`);
    }
  }
  err(errorLines(result));
  return code;
}

function useExitCode(result: RunResult): number {
  if (result.badInput) return 2;
  if (result.interrupted) return INTERRUPTED;
  if (result.command === 'exec' && result.exec?.length) return worstExit(result.exec);
  return result.ok ? 0 : 1;
}

function shellWord(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

/** env: exports for the shell. The token goes to a local 0600 file unless --show-token. */
function printEnv(result: RunResult, s: CliSettings, io: CliIO, mask: SecretMask, code: number): number {
  const env = result.env;
  if (!env) {
    io.stderr(mask.apply(errorLines(result)));
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
  if (s.format === 'json') io.stdout(JSON.stringify(Object.fromEntries(vars), null, 2) + '\n');
  else if (s.format === 'fish') io.stdout(vars.map(([k, v]) => `set -gx ${k} ${shellWord(v)};\n`).join(''));
  else io.stdout(vars.map(([k, v]) => `export ${k}=${shellWord(v)}\n`).join(''));
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
