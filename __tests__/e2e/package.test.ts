// The package as a user gets it: `npm pack`, then `npm install -g` of the tarball into a fresh prefix,
// offline, with an empty npm cache (so nothing can be fetched), and the `nokube` it puts on PATH, run
// from a directory with no repository in it, with a fresh HOME and only Node on PATH, validates,
// starts, checks and stops the demo cluster (examples/testhosts-ray-config.yaml) on the test hosts.
// The same package installed from the repository's git URL (git+file://, the committed HEAD) runs too.
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDist, REPO } from '../helpers/cli';
import { e2eEnabled, hostExec, rayStopAll, requireTestHosts, type HostsInfo } from './hosts';

const DEMO_HOSTS = ['nkh1', 'nkh2', 'nkh3'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** `npm install -g` of `spec` into a fresh prefix, from `cwd`, offline, with an empty cache. */
async function installGlobally(spec: string, root: string): Promise<{ prefix: string; install: Run }> {
  const prefix = join(root, 'prefix');
  const args = ['install', '-g', '--prefix', prefix, '--offline', '--cache', join(root, 'npm-cache'), spec];
  const env = {
    ...process.env,
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  };
  return { prefix, install: await run('npm', args, { cwd: root, env }) };
}

/** Every file of the installed package, relative to it. */
function installedFiles(prefix: string): string[] {
  const top = join(prefix, 'lib', 'node_modules', '@nokube', 'ray-deploy');
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [relative(top, join(dir, e.name))],
    );
  return walk(top).sort();
}

function raylet(host: string): string {
  return hostExec(host, 'pgrep -x raylet || true').stdout.trim();
}

describe.skipIf(!e2eEnabled)('the npm package, installed globally, runs the demo cluster from any directory', () => {
  let info: HostsInfo;
  let root: string;
  let prefix: string;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let flags: string[];
  const nokube = (...args: string[]) => run('nokube', args, { cwd: work, env });
  const json = (r: Run) => JSON.parse(r.stdout) as Record<string, unknown> & { nodes: Record<string, unknown>[] };

  beforeAll(async () => {
    info = requireTestHosts();
    rayStopAll(info);
    ensureDist();
    root = mkdtempSync(join(tmpdir(), 'nokube-package-'));
    const packed = spawnSync('npm', ['pack', '--json', '--pack-destination', root], { cwd: REPO, encoding: 'utf8' });
    expect(packed.status, packed.stderr).toBe(0);
    const tarball = join(root, (JSON.parse(packed.stdout) as { filename: string }[])[0].filename);
    let install: Run;
    ({ prefix, install } = await installGlobally(tarball, root));
    expect(install.code, install.stderr + install.stdout).toBe(0);

    // a user's directory: only their config, outside the repository; a fresh HOME; only Node on PATH
    work = join(root, 'my-cluster');
    mkdirSync(join(work, 'home'), { recursive: true });
    copyFileSync(join(REPO, 'examples', 'testhosts-ray-config.yaml'), join(work, 'ray-config.yaml'));
    env = { PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}`, HOME: join(work, 'home'), LANG: 'C.UTF-8' };
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
  });
  afterAll(() => {
    if (info) rayStopAll(info);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('installs offline with nothing fetched: the package alone, `nokube` on PATH', async () => {
    const version = await nokube('--version');
    expect(version.stdout.trim()).toBe(
      `nokube ${(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version}`,
    );
    expect(relative(REPO, work).startsWith('..')).toBe(true);
    const bin = join(prefix, 'bin', 'nokube');
    expect(lstatSync(bin).isSymbolicLink()).toBe(true);
    // no dependency came with it (npm would have put it in the package's node_modules or beside it)
    expect(readdirSync(join(prefix, 'lib', 'node_modules'))).toEqual(['@nokube']);
    expect(existsSync(join(prefix, 'lib', 'node_modules', '@nokube', 'ray-deploy', 'node_modules'))).toBe(false);
    expect(installedFiles(prefix).some((p) => p.startsWith('src/') || p.startsWith('__tests__/'))).toBe(false);
  });

  it('validates the demo config (ray-config.yaml, the default) and names a bad value by file:line:col', async () => {
    const ok = await nokube('ray', 'validate');
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    expect(ok.stdout).toContain('Config ray-config.yaml is valid: 3 nodes');
    // the schema's message, from inside the bundle
    const bad =
      'nodes:\n  - ssh_url: "10.88.0.11:22"\n    name: head\n    role: head\n    ray_config: {num_cpus: many}\n';
    writeFileSync(join(work, 'bad.yaml'), bad);
    const r = await nokube('ray', 'validate', '--config', 'bad.yaml');
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain(
      'bad.yaml:5:28: error: nodes[0].ray_config.num_cpus: expected a non-negative integer, found "many"',
    );
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .*\(/); // no stack trace
  });

  it('starts the demo cluster: head and two workers alive, a raylet on each host', async () => {
    const r = await nokube('ray', 'start', ...flags, '--json');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(json(r).status).toBe('healthy');
    expect(json(r)['alive-nodes']).toBe(3);
    for (const host of DEMO_HOSTS) expect(raylet(host), host).not.toBe('');
  });

  it('reports the running cluster in status, as Ray sees it', async () => {
    const r = await nokube('ray', 'status', ...flags, '--json');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = json(r);
    expect(out.status).toBe('healthy');
    expect(out.nodes.map((n) => [n.name, n.state])).toEqual([
      ['ray-head', 'running'],
      ['ray-worker-1', 'running'],
      ['ray-worker-2', 'running'],
    ]);
    expect(out.nodes.map((n) => (n.resources as Record<string, number>).CPU)).toEqual([8, 16, 16]);
  });

  it('stops it: no raylet left on any demo host', async () => {
    const r = await nokube('ray', 'stop', ...flags, '--json');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(json(r).status).toBe('stopped');
    for (const host of DEMO_HOSTS) expect(raylet(host), host).toBe('');
  });

  it('installs the same files from the git URL (committed HEAD, no build step) and that nokube runs', async () => {
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).stdout.trim();
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    const gitRoot = mkdtempSync(join(root, 'git-'));
    const { prefix: gitPrefix, install } = await installGlobally(`git+file://${REPO}#${head}`, gitRoot);
    expect(install.code, install.stderr + install.stdout).toBe(0);
    // one npm run: a second (npm preparing the checkout with its dev dependencies) would log its own
    expect(readdirSync(join(gitRoot, 'npm-cache', '_logs')).filter((f) => f.endsWith('.log'))).toHaveLength(1);
    expect(installedFiles(gitPrefix).filter((p) => !p.startsWith('dist/'))).toEqual(['README.md', 'package.json']);
    const r = await run('nokube', ['ray', 'validate'], {
      cwd: work,
      env: { ...env, PATH: `${join(gitPrefix, 'bin')}:${dirname(process.execPath)}` },
    });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('is valid: 3 nodes');
  });
});
