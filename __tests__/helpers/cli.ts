// Runs the bundled CLI (dist/cli/index.js) exactly as a user does, and builds dist/ first when
// src/ or remote_lib/ is newer, so end-to-end tests always exercise the current code.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO = resolve(__dirname, '..', '..');
export const CLI = join(REPO, 'dist', 'cli', 'index.js');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

let built = false;
/** Rebuilds dist/ when it is older than its sources (once per test process). */
export function ensureDist(): void {
  if (built) return;
  let distTime = 0;
  try {
    distTime = Math.min(statSync(CLI).mtimeMs, statSync(join(REPO, 'dist', 'index.js')).mtimeMs);
  } catch {
    distTime = 0;
  }
  if (Math.max(newest(join(REPO, 'src')), newest(join(REPO, 'remote_lib'))) > distTime) {
    const r = spawnSync('node', [join(REPO, 'scripts', 'bundle.mjs')], { cwd: REPO, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bundle failed:\n${r.stdout}\n${r.stderr}`);
  }
  built = true;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed, when --json was given. */
  json?: Record<string, unknown> & {
    status: string;
    nodes: { name: string; state: string }[];
    plan: { node: string; action: string; drift: { field: string; from: string; to: string }[] }[];
    errors?: { node: string | null; message: string; hint: string | null }[];
  };
}

export function nokube(args: string[], env: Record<string, string> = {}, timeoutMs = 300_000): Promise<CliRun> {
  ensureDist();
  return new Promise((resolvePromise, reject) => {
    const child = spawn('node', [CLI, ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const result: CliRun = { code: code ?? -1, stdout, stderr };
      if (args.includes('--json')) {
        try {
          result.json = JSON.parse(stdout);
        } catch {
          /* left undefined: the test's assertion will show stdout */
        }
      }
      resolvePromise(result);
    });
  });
}
