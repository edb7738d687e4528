// Runs the bundled Action as the runner does: `node index.js` with INPUT_<NAME> variables (dashes
// kept), GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, and the event payload in GITHUB_EVENT_PATH.
// The bundle is built from the current sources into a temporary directory (keyed by their content),
// so tests never race another build of dist/ in the same checkout.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(__dirname, '..', '..');

function hashTree(dir: string, hash: ReturnType<typeof createHash>): void {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) hashTree(p, hash);
    else if (/\.(ts|py|json)$/.test(e.name)) hash.update(p).update(readFileSync(p));
  }
}

/** The path of an up-to-date bundle of src/action/index.ts (with remote_lib beside it). */
export function actionBundle(): string {
  const hash = createHash('sha256');
  hashTree(join(REPO, 'src'), hash);
  hash.update(readFileSync(join(REPO, 'remote_lib', 'nokube_remote.py')));
  hash.update(readFileSync(join(REPO, 'package-lock.json')));
  const dir = join(tmpdir(), `nokube-action-bundle-${hash.digest('hex').slice(0, 16)}`);
  const entry = join(dir, 'index.js');
  if (existsSync(entry)) return entry;
  pruneOldBundles(dir);
  const work = mkdtempSync(join(tmpdir(), 'nokube-action-build-'));
  const r = spawnSync(
    join(REPO, 'node_modules', '.bin', 'ncc'),
    ['build', 'src/action/index.ts', '-o', work, '--target', 'es2022', '-q'],
    { cwd: REPO, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`ncc build of the Action failed:\n${r.stdout}\n${r.stderr}`);
  mkdirSync(join(work, 'remote_lib'));
  cpSync(join(REPO, 'remote_lib', 'nokube_remote.py'), join(work, 'remote_lib', 'nokube_remote.py'));
  try {
    renameSync(work, dir);
  } catch {
    rmSync(work, { recursive: true, force: true }); // another worker got there first
  }
  return entry;
}

/** Bundles of older sources, left by earlier runs: removed after a day. */
function pruneOldBundles(keep: string): void {
  for (const name of readdirSync(tmpdir())) {
    const path = join(tmpdir(), name);
    if (!name.startsWith('nokube-action-bundle-') || path === keep) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true });
    } catch {
      /* another process removed it */
    }
  }
}

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

export interface ActionRunOptions {
  inputs: Record<string, string>;
  workspace: string;
  eventName?: string;
  event?: unknown;
  env?: Record<string, string>;
  apiUrl?: string;
  /** Another bundle entry than actionBundle() (e.g. a copy without remote_lib beside it). */
  entry?: string;
  /** Kill the child after this long (default 120 s; a real deploy can take longer). */
  timeoutMs?: number;
}

export function runAction(opts: ActionRunOptions): Promise<ActionRun> {
  const entry = opts.entry ?? actionBundle();
  const runnerTemp = mkdtempSync(join(tmpdir(), 'nokube-runner-'));
  const outputFile = join(runnerTemp, 'output');
  const summaryFile = join(runnerTemp, 'summary');
  const eventFile = join(runnerTemp, 'event.json');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  writeFileSync(eventFile, JSON.stringify(opts.event ?? {}));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_EVENT_NAME: opts.eventName ?? 'push',
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_REPOSITORY: 'acme/cluster',
    GITHUB_WORKSPACE: opts.workspace,
    GITHUB_SHA: 'f00dfacecafebabe0123456789abcdef01234567',
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_RUN_ID: '4242',
    GITHUB_API_URL: opts.apiUrl ?? 'http://127.0.0.1:9',
    RUNNER_TEMP: runnerTemp,
    ...opts.env,
  };
  // The runner passes each input as INPUT_<NAME>: upper case, spaces to underscores, dashes kept.
  for (const [name, value] of Object.entries(opts.inputs))
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;

  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [entry], { cwd: opts.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const outputs = parseOutputFile(readFileSync(outputFile, 'utf8'));
      const summary = readFileSync(summaryFile, 'utf8');
      rmSync(runnerTemp, { recursive: true, force: true });
      resolvePromise({ code: code ?? -1, stdout, stderr, outputs, summary });
    });
  });
}

/** The GITHUB_OUTPUT file format: `name<<DELIM` / value lines / `DELIM`, or `name=value`. */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    if (!line) continue;
    const heredoc = line.match(/^([^=<]+)<<(.+)$/);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const value: string[] = [];
      for (i += 1; i < lines.length && lines[i] !== delim; i += 1) value.push(lines[i]);
      out[name] = value.join('\n');
    } else {
      const eq = line.indexOf('=');
      out[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return out;
}

/** stdout without the runner's `::add-mask::` commands (the runner consumes those lines; they never show). */
export function visibleLog(stdout: string): string {
  return stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
}
