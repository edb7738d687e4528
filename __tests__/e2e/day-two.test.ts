// Day-two commands on a real cluster of test hosts (head nkh1, workers nkh2 and nkh3), through the
// bundled CLI, checked from outside it: the nodes' own files, `tar`, plain HTTP, Ray Client.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureDist, nokube, type CliRun } from '../helpers/cli';
import { clusterConfig } from './cluster-config';
import { e2eEnabled, hostExec, rayStopAll, requireTestHosts, type HostsInfo } from './hosts';

const NODES = ['ray-head', 'ray-worker-1', 'ray-worker-2'];
const HOSTS: Record<string, string> = { 'ray-head': 'nkh1', 'ray-worker-1': 'nkh2', 'ray-worker-2': 'nkh3' };
/** Short storage paths: Ray's temp dir is then <storage>/ray (its sockets must fit in 107 bytes). */
const STORAGE: Record<string, string> = {
  'ray-head': '/opt/nokube/data/dt/h',
  'ray-worker-1': '/opt/nokube/data/dt/w1',
  'ray-worker-2': '/opt/nokube/data/dt/w2',
};

function config(cluster = 'daytwo', storageRoot = ''): string {
  return clusterConfig({
    name: cluster,
    nodes: NODES.map((name, i) => ({
      ip: `10.88.0.${11 + i}`,
      name,
      role: i === 0 ? 'head' : 'worker',
      ...(i === 0 ? { ray: { dashboard_port: 8265 } } : {}),
      storage: storageRoot ? `${storageRoot}/${i}` : STORAGE[name],
    })),
  });
}

describe.skipIf(!e2eEnabled)('day-two commands on real test hosts', () => {
  let info: HostsInfo;
  let dir: string;
  let file: string;
  let flags: string[];
  const cli = (cmd: string, more: string[] = [], cfg = file): Promise<CliRun> =>
    nokube(['ray', cmd, '--config', cfg, ...flags, ...more], {}, 600_000);

  beforeAll(async () => {
    info = requireTestHosts();
    rayStopAll(info);
    dir = mkdtempSync(join(tmpdir(), 'nokube-daytwo-'));
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    file = join(dir, 'ray-config.yaml');
    configFile = file;
    writeFileSync(file, config());
    const r = await cli('start', ['--timeout', '400']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
  }, 600_000);
  afterAll(() => {
    if (info) rayStopAll(info);
  });

  it('logs into a directory: every node its raylet.out (as on the node), facts and an index', async () => {
    const out = join(dir, 'logs-dir');
    const t0 = Date.now();
    const r = await cli('logs', ['--output', out]);
    console.log(`logs (3 nodes, directory): ${Date.now() - t0} ms`);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain(`in ${out}`);
    for (const name of NODES) {
      const raylet = join(out, name, 'ray', 'raylet.out');
      expect(existsSync(raylet), `${raylet}\n${r.stderr}`).toBe(true);
      // the same file as Ray wrote it on the node
      const onNode = hostExec(HOSTS[name], `head -c 300 ${STORAGE[name]}/ray/session_latest/logs/raylet.out`);
      expect(readFileSync(raylet, 'utf8').startsWith(onNode.stdout)).toBe(true);
      expect(onNode.stdout.length).toBeGreaterThan(50);
      const facts = JSON.parse(readFileSync(join(out, name, 'facts.json'), 'utf8'));
      expect(facts.hostname).toBe(hostExec(HOSTS[name], 'hostname').stdout.trim());
      expect(facts.ray.version).toBe('2.60.0');
      expect(facts.shm.total_bytes).toBeGreaterThan(0);
      expect(facts.running).toBe(true);
      expect(existsSync(join(out, name, 'nokube', 'ray-start.log'))).toBe(true);
      expect(existsSync(join(out, name, 'ray', 'gcs_server.out'))).toBe(name === 'ray-head');
    }
    const index = JSON.parse(readFileSync(join(out, 'nokube-logs.json'), 'utf8'));
    expect(index.nodes.map((n: { name: string }) => n.name)).toEqual(NODES);
    // the bundle left nothing behind on the node, and the token never left it
    expect(hostExec('nkh1', 'ls /opt/nokube/data/dt/h/logs/bundles').stdout.trim()).toBe('');
    const token = hostExec('nkh1', 'cat /opt/nokube/data/dt/h/state/auth_token').stdout.trim();
    expect(token.length).toBeGreaterThan(10);
    const grep = spawnSync('grep', ['-rl', token, out], { encoding: 'utf8' });
    expect(grep.stdout).toBe('');
  });

  it('logs into one .tar.gz with a directory per node; --node and --since choose', async () => {
    const archive = join(dir, 'bundle.tar.gz');
    const t0 = Date.now();
    let r = await cli('logs', ['--output', archive, '--json']);
    console.log(`logs (3 nodes, .tar.gz): ${Date.now() - t0} ms`);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json!.logs).toBe(archive);
    const list = spawnSync('tar', ['-tzf', archive], { encoding: 'utf8' }).stdout.split('\n');
    for (const name of NODES) {
      expect(list).toContain(`${name}/ray/raylet.out`);
      expect(list).toContain(`${name}/facts.json`);
    }
    expect(list).toContain('nokube-logs.json');

    const one = join(dir, 'one.tar.gz');
    r = await cli('logs', ['--output', one, '--node', 'ray-worker-1', '--since', '1h']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const names = spawnSync('tar', ['-tzf', one], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(names).toContain('ray-worker-1/ray/raylet.out');
    expect(names.filter((n) => !n.startsWith('ray-worker-1/') && n !== 'nokube-logs.json')).toEqual([]);
  });

  it('logs: an unknown node, an output that cannot be written: exit 2, named, no stack trace', async () => {
    let r = await cli('logs', ['--output', join(dir, 'x'), '--node', 'ray-wroker-1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('has no node named "ray-wroker-1"');
    expect(r.stderr).toContain('ray-head, ray-worker-1, ray-worker-2');
    const full = join(dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'mine');
    r = await cli('logs', ['--output', full]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--output ${full}: is not empty`);
    r = await cli('logs', ['--output', join(dir, 'no', 'such', 'dir', 'x.tar.gz')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not exist');
    for (const x of [r.stderr, r.stdout]) expect(x).not.toMatch(/\n\s+at /);
    r = await cli('logs', []);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('needs --output');
  });

  it('dashboard: local ports answer with the token added; Ray Client runs a task through the forward', async () => {
    const t0 = Date.now();
    const dash = startDashboard(['--port', '18265', '--client-port', '18001', '--json']);
    const opened = JSON.parse(await dash.line());
    console.log(`dashboard forward open: ${Date.now() - t0} ms`);
    try {
      expect(opened['dashboard-url']).toBe('http://127.0.0.1:18265');
      expect(opened['open-url']).toMatch(/^http:\/\/127\.0\.0\.1:18265\/\?nokube_token=[\w-]{43}$/);
      expect(opened.cookie).toMatch(/^nokube_dashboard_18265=[\w-]{43}$/);
      expect(opened['client-address']).toBe('ray://127.0.0.1:18001');
      expect(opened.ray_version).toBe('2.60.0');
      // the head's own dashboard wants the token; the forward adds it for a client with the proof (a cookie)
      expect((await fetch('http://10.88.0.11:8265/api/version')).status).toBe(401);
      const proof = { headers: { cookie: opened.cookie as string } };
      const version = await fetch('http://127.0.0.1:18265/api/version', proof);
      expect(version.status).toBe(200);
      expect(((await version.json()) as { ray_version: string }).ray_version).toBe('2.60.0');
      const page = await fetch('http://127.0.0.1:18265/', proof);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      const nodes = await fetch('http://127.0.0.1:18265/api/v0/nodes', proof);
      expect(nodes.status).toBe(200);
      // bound to loopback only: the machine's bridge address does not answer
      expect(await accepts(info.bridge_ip, 18265)).toBe(false);
      expect(await accepts('127.0.0.1', 18001)).toBe(true);
      // a second one on the same local port: a clear error
      const again = await cli('dashboard', ['--port', '18265', '--client-port', '18002']);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('local port 127.0.0.1:18265 for the dashboard is already in use');
      expect(again.stderr).toContain('--port');
      expect(again.stderr).not.toMatch(/\n\s+at /);

      // Ray Client through the forward, with the env the command printed (token from a local 0600 file)
      expect(opened.client_env.RAY_AUTH_MODE).toBe('token');
      const tokenFile = opened.client_env.RAY_AUTH_TOKEN_PATH as string;
      expect(spawnSync('stat', ['-c', '%a', tokenFile], { encoding: 'utf8' }).stdout.trim()).toBe('600');
      const py = `
import socket, time, ray
for attempt in range(3):
    try:
        ray.init('ray://127.0.0.1:18001', logging_level='ERROR')
        break
    except Exception as e:  # Ray's proxy sometimes fails to spawn its per-client server at once
        if attempt == 2: raise
        time.sleep(3)
@ray.remote(num_cpus=1)
def where():
    return socket.gethostname()
print('HOSTS', sorted(set(ray.get([where.remote() for _ in range(3)]))))
`;
      const t1 = Date.now();
      const client = spawnSync('/opt/nokube-venv/bin/python', ['-c', py], {
        encoding: 'utf8',
        env: { ...process.env, ...opened.client_env },
        timeout: 240_000,
      });
      console.log(`Ray Client task through the forward: ${Date.now() - t1} ms`);
      expect(client.status, client.stderr).toBe(0);
      expect(client.stdout).toMatch(/HOSTS \[.+\]/);
    } finally {
      dash.child.kill('SIGINT');
    }
    expect(await dash.exit).toBe(0);
    expect(await accepts('127.0.0.1', 18265)).toBe(false);
    expect(existsSync(opened.client_env.RAY_AUTH_TOKEN_PATH)).toBe(false);
  });

  it('dashboard: the printed URL opens it in a real browser (Chromium), nodes listed; without the proof no token reaches the head', async () => {
    const dash = startDashboard(['--port', '18665', '--client-port', '18666']);
    const printed = await dash.line();
    try {
      // another local user, or a script without the proof: refused by the forward itself (its own page,
      // not the head's answer), so a job it posts never reaches the head
      const mark = `/tmp/nokube-forward-${process.pid}`;
      // (as curl sends it: Ray's dashboard refuses a POST with a browser's Sec-Fetch headers, as fetch() sends)
      const post = await rawRequest(18665, '/api/jobs/', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ entrypoint: `touch ${mark}` }),
      });
      expect(post.status, post.body).toBe(401);
      expect(post.body).toContain('Open the URL that <code>nokube ray dashboard</code> printed');
      const plain = await fetch('http://127.0.0.1:18665/api/version');
      expect(plain.status).toBe(401);
      // a web page that reached the port by DNS rebinding (its own name in Host), or a foreign Origin
      expect((await rawRequest(18665, '/api/version', { headers: { host: 'evil.example:18665' } })).status).toBe(403);
      expect(
        (await rawRequest(18665, '/api/version', { headers: { origin: 'http://evil.example:18665' } })).status,
      ).toBe(403);
      // the head's dashboard itself refuses a request without the token: so the 401s above were
      // the forward not adding it
      expect((await fetch('http://10.88.0.11:8265/api/jobs/')).status).toBe(401);

      // what a user clicks: the URL on the first line the command prints
      const url = /^Dashboard:\s+(http:\/\/127\.0\.0\.1:18665\/\?nokube_token=[\w-]+)$/.exec(printed)?.[1];
      expect(url, printed).toBeDefined();

      // a real browser: the printed URL, then the dashboard's own page of nodes (its JavaScript run)
      const profile = mkdtempSync(join(tmpdir(), 'nokube-chromium-'));
      const t0 = Date.now();
      const dom = chromiumDom(`${url}#/cluster`, profile);
      console.log(`Chromium: dashboard's nodes page through the printed URL in ${Date.now() - t0} ms`);
      expect(dom).toMatch(/<title>Cluster \| Ray Dashboard<\/title>/);
      expect(dom).toContain('Node summary fetched');
      for (const n of ['ray-head', 'ray-worker-1', 'ray-worker-2'])
        expect(dom, `node ${n} listed`).toContain(`nokube.io/node: ${n}`);
      for (const ip of ['10.88.0.11', '10.88.0.12', '10.88.0.13']) expect(dom, `node ${ip} listed`).toContain(ip);
      // the URL was spent: a second browser (or whoever reads it later) is not let in
      const again = chromiumDom(url!, mkdtempSync(join(tmpdir(), 'nokube-chromium-')));
      expect(again).toContain('this link was used already');
      expect(again).not.toContain('Ray Dashboard');

      // no job came through the refused POST
      expect(hostExec('nkh1', `test -e ${mark} && echo present || echo absent`).stdout.trim()).toBe('absent');

      // Ray Client's forward is a plain TCP port on 127.0.0.1: the head's Ray Client server itself
      // wants the token, so a local user without it (no RAY_AUTH_TOKEN*) gets nothing done there
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RAY_')));
      const py = `import ray\nray.init('ray://127.0.0.1:18666', logging_level='ERROR')\nprint('CONNECTED', ray.get(ray.put(1)))`;
      const stranger = spawnSync('/opt/nokube-venv/bin/python', ['-c', py], {
        encoding: 'utf8',
        env,
        timeout: 180_000,
      });
      console.log(
        `Ray Client without the token: exit ${stranger.status}: ${stranger.stderr.trim().split('\n').slice(-1)[0]}`,
      );
      expect(stranger.stdout).not.toContain('CONNECTED');
      expect(stranger.status).not.toBe(0);
    } finally {
      dash.child.kill('SIGINT');
    }
    expect(await dash.exit).toBe(0);
  });

  it('dashboard: the token file is removed on SIGHUP and SIGTERM, and when the command ends by an error', async () => {
    for (const [signal, port] of [
      ['SIGHUP', 18365],
      ['SIGTERM', 18465],
    ] as const) {
      const dash = startDashboard(['--port', String(port), '--client-port', String(port + 1), '--json']);
      const opened = JSON.parse(await dash.line());
      const tokenFile = opened.client_env.RAY_AUTH_TOKEN_PATH as string;
      expect(existsSync(tokenFile), signal).toBe(true);
      dash.child.kill(signal); // a closed terminal or ssh session sends SIGHUP; a supervisor SIGTERM
      expect(await dash.exit, signal).toBe(0);
      expect(existsSync(tokenFile), `${signal}: ${tokenFile} is left`).toBe(false);
      expect(await accepts('127.0.0.1', port)).toBe(false);
    }
    // the forwards end by themselves (the head's sshd killed): exit 1, the file gone as well
    const dash = startDashboard(['--port', '18565', '--client-port', '18566', '--json']);
    const opened = JSON.parse(await dash.line());
    const tokenFile = opened.client_env.RAY_AUTH_TOKEN_PATH as string;
    expect(existsSync(tokenFile)).toBe(true);
    hostExec('nkh1', 'pkill -f "sshd: nokube" || true'); // the head's sessions of the login user
    expect(await dash.exit).toBe(1);
    expect(existsSync(tokenFile), `${tokenFile} is left after the connection was lost`).toBe(false);
  });

  it('dashboard of a cluster that is not running: exit 1, says so and how to start it', async () => {
    const other = join(dir, 'other.yaml');
    // its own storage: the same storage paths would mean the same Ray processes, i.e. the running cluster
    writeFileSync(other, config('never-started', '/opt/nokube/data/dt-none'));
    const r = await cli('dashboard', [], other);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cluster "never-started" is down or stopped');
    expect(r.stderr).toContain(`nokube ray start --config ${other}`);
  });
});

/** The CLI's dashboard command as a long-running child: its first stdout line, and its exit code. */
function startDashboard(more: string[]): { child: ChildProcess; line: () => Promise<string>; exit: Promise<number> } {
  ensureDist();
  const info = requireTestHosts();
  const flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
  const child = spawn('node', [CLI, 'ray', 'dashboard', '--config', file(), ...flags, ...more], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const line = () =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no output from the dashboard command:\n${err}`)), 180_000);
      const check = () => {
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(out.split('\n')[0]);
        }
      };
      child.stdout!.on('data', (d) => {
        out += d;
        check();
      });
      void exit.then((code) => reject(new Error(`the dashboard command ended (exit ${code}):\n${out}\n${err}`)));
    });
  return { child, line, exit };
}

/** The page Chromium shows for `url` once its JavaScript has run (a fresh profile: no cookie before). */
function chromiumDom(url: string, profile: string): string {
  const r = spawnSync(
    'chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--user-data-dir=${profile}`,
      // time for the dashboard's scripts and their API calls before the DOM is dumped
      '--virtual-time-budget=20000',
      '--dump-dom',
      url,
    ],
    { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`chromium exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** A request as curl sends it (no Sec-Fetch headers), with headers fetch() would not let a test set (Host). */
function rawRequest(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    r.on('error', reject);
    r.end(opts.body);
  });
}

let configFile = '';
function file(): string {
  return configFile;
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 3000 });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}
