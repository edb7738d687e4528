// Faults and hostile neighbours on real sshd + real Ray test hosts (issue 11): a cancelled run, two
// deploys at once, other clusters and users on the same machines, unsafe storage and temp dirs.
// Every check is made from outside the CLI (processes and files inside the hosts).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, ensureDist, nokube, type CliRun } from '../helpers/cli';
import { clusterConfig, type TestNode } from './cluster-config';
import { e2eEnabled, hostExec, rayStopAll, requireTestHosts, type HostsInfo } from './hosts';

/** A cluster config; the head's ports can be moved so two clusters share one machine. */
function config(
  name: string,
  nodes: TestNode[],
  ports = { gcs: 6379, dash: 8265, client: 10001 },
  spec: Record<string, unknown> = {},
): string {
  return clusterConfig({
    name,
    spec: { dashboard_port: ports.dash, ...spec },
    nodes: nodes.map((n) =>
      n.role === 'head' ? { ...n, ray: { port: ports.client, gcs_port: ports.gcs, ...n.ray } } : n,
    ),
  });
}

const THREE: TestNode[] = [
  { ip: '10.88.0.11', name: 'head', role: 'head', storage: '/opt/nokube/data/f/head' },
  { ip: '10.88.0.12', name: 'w1', role: 'worker', storage: '/opt/nokube/data/f/w1' },
  { ip: '10.88.0.13', name: 'w2', role: 'worker', storage: '/opt/nokube/data/f/w2' },
];

function count(host: string, pattern: string): number {
  const out = hostExec(host, `pgrep -c ${pattern} || true`).stdout.trim();
  return Number(out || '0');
}

/** Starts the CLI and returns its process, for a test that kills it. */
function spawnCli(args: string[]) {
  ensureDist();
  const child = spawn('node', [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const done = new Promise<number>((r) => child.on('close', (code, sig) => r(code ?? (sig ? 128 : -1))));
  return { child, done, output: () => output };
}

async function until(what: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!e2eEnabled)('faults: cancelled runs and concurrent deploys', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  let file: string;
  const cli = (cmd: string, f: string, more: string[] = []): Promise<CliRun> =>
    nokube(['ray', cmd, '--config', f, ...flags, '--json', ...more]);

  beforeAll(() => {
    info = requireTestHosts();
    rayStopAll(info);
    dir = mkdtempSync(join(tmpdir(), 'nokube-faults-'));
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '120');
    file = join(dir, 'three.yaml');
    writeFileSync(file, config('faults', THREE));
  });
  afterAll(async () => {
    if (file) await cli('stop', file);
    if (info) rayStopAll(info);
  });

  it('kill -9 of the CLI in the middle of start does not block the next start, which converges', async () => {
    const run = spawnCli(['ray', 'start', '--config', file, ...flags]);
    await until(() => /w\d\s+starting/.test(run.output()), 120_000);
    run.child.kill('SIGKILL');
    await run.done;
    const t0 = Date.now();
    const again = await cli('start', file);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.json!.status).toBe('healthy');
    // the lock of the killed run was taken over, and the output says so
    expect(again.stderr).toMatch(/lock .*(was held by|replaced).*gone/i);
    expect(Date.now() - t0).toBeLessThan(120_000);
    for (const h of ['nkh1', 'nkh2', 'nkh3']) {
      expect(count(h, '-x raylet'), `${h} raylets`).toBe(1);
      expect(count(h, '-x gcs_server'), `${h} GCS`).toBe(h === 'nkh1' ? 1 : 0);
    }
    // no half-written state file
    const storage = THREE.find((n) => n.ip === '10.88.0.11')!.storage;
    const st = hostExec(
      'nkh1',
      `python3 -c "import json,glob; [json.load(open(f)) for f in glob.glob('${storage}/state/*.json')]; print('ok')"; ls ${storage}/state`,
    );
    expect(st.stdout).toContain('ok');
    expect(st.stdout).not.toMatch(/\.tmp/);
  }, 420_000);

  it('two deploys at once: one applies, the other fails fast naming the holder and its start time', async () => {
    expect((await cli('stop', file)).code).toBe(0);
    const [a, b] = await Promise.all([cli('start', file), cli('start', file)]);
    const codes = [a.code, b.code].sort();
    expect(codes, a.stderr + b.stderr).toEqual([0, 1]);
    const loser = a.code === 1 ? a : b;
    const err = loser.json!.errors!.map((e) => e.message).join('\n');
    expect(err).toMatch(/holds the lock/);
    expect(err).toMatch(/pid \d+/); // the holder
    expect(err).toMatch(/since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/); // and when it started
    expect(loser.json!.plan.filter((p) => p.action !== 'keep').length).toBeGreaterThanOrEqual(0);
    for (const h of ['nkh1', 'nkh2', 'nkh3']) expect(count(h, '-x raylet'), h).toBe(1);
  });

  it('stop takes the same lock; --wait-lock waits for the holder, then sees nothing left to do', async () => {
    expect((await cli('stop', file)).code).toBe(0);
    const run = spawnCli(['ray', 'start', '--config', file, ...flags]);
    await until(() => /head\s+starting/.test(run.output()), 120_000);
    const stop = await cli('stop', file);
    expect(stop.code).toBe(1);
    expect(stop.json!.errors!.map((e) => e.message).join('\n')).toMatch(/holds the lock/);
    const waited = await cli('start', file, ['--wait-lock', '200']);
    expect(await run.done, run.output()).toBe(0);
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.json!.changes).toBe(0);
    expect(waited.stderr).toMatch(/waiting for the lock/);
  });
});

describe.skipIf(!e2eEnabled)('faults: stop signals only this cluster of this user', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  const outer: TestNode[] = [
    { ip: '10.88.0.11', name: 'head', role: 'head', storage: '/opt/nokube/data/o' },
    { ip: '10.88.0.12', name: 'w1', role: 'worker', storage: '/opt/nokube/data/o' },
  ];
  // a second cluster whose storage lies inside the first one's
  const inner: TestNode[] = [{ ip: '10.88.0.11', name: 'ihead', role: 'head', storage: '/opt/nokube/data/o/in' }];
  const cli = (cmd: string, f: string): Promise<CliRun> => nokube(['ray', cmd, '--config', f, ...flags, '--json']);
  const files = { outer: '', inner: '' };

  beforeAll(() => {
    info = requireTestHosts();
    rayStopAll(info);
    dir = mkdtempSync(join(tmpdir(), 'nokube-faults-'));
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '120');
    files.outer = join(dir, 'outer.yaml');
    files.inner = join(dir, 'inner.yaml');
    writeFileSync(files.outer, config('outer', outer));
    writeFileSync(files.inner, config('inner', inner, { gcs: 6390, dash: 8275, client: 10011 }));
  });
  afterAll(() => {
    if (info) rayStopAll(info);
    hostExec('nkh1', 'pkill -f nokube-operator-tail || true');
    hostExec('nkh2', 'pkill -u nokubepw -f ray || true; pkill -f nokube-operator-tail || true');
  });

  it("a nested cluster, another user's default Ray and an operator's tail -f raylet.out survive stop", async () => {
    let r = await cli('start', files.outer);
    expect(r.code, r.stderr).toBe(0);
    r = await cli('start', files.inner);
    expect(r.code, r.stderr).toBe(0);
    // another user's own Ray on a worker machine (default temp dir /tmp/ray)
    const other = hostExec(
      'nkh2',
      'cd /tmp && ray start --head --port=6500 --dashboard-port=8500 --ray-client-server-port=20500 --num-cpus=1 --disable-usage-stats --include-dashboard=false >/tmp/other.log 2>&1; echo rc=$?',
      { user: 'nokubepw', timeoutMs: 180_000 },
    );
    expect(other.stdout, hostExec('nkh2', 'cat /tmp/other.log; ls -la /tmp/ray').stdout).toContain('rc=0');
    const otherRaylet = hostExec('nkh2', 'pgrep -u nokubepw -x raylet').stdout.trim();
    expect(otherRaylet).not.toBe('');
    // operators watching the logs: as root on the head, as the login user on the worker
    hostExec(
      'nkh1',
      "nohup bash -c 'exec -a nokube-operator-tail tail -f /opt/nokube/data/o/ray/session_latest/logs/raylet.out' >/dev/null 2>&1 &",
    );
    hostExec(
      'nkh2',
      // `;`, not `&&`: `a && b &` backgrounds a subshell that keeps hostExec's stdout open until tail ends
      "cd /opt/nokube/data/o || exit 1; nohup bash -c 'exec tail -f /opt/nokube/data/o/ray/session_latest/logs/raylet.out' >/dev/null 2>&1 &",
      { user: 'nokube' },
    );
    // "[t]ail": the pattern must not match the command line of the bash that runs pgrep
    const tails = () =>
      hostExec('nkh1', 'pgrep -c -f "[t]ail -f /opt/nokube" || true').stdout.trim() +
      '/' +
      hostExec('nkh2', 'pgrep -c -f "[t]ail -f /opt/nokube" || true').stdout.trim();
    expect(tails()).toBe('1/1');

    const stop = await cli('stop', files.outer);
    expect(stop.code, stop.stderr + stop.stdout).toBe(0);
    expect(stop.json!.status).toBe('stopped');
    // the outer cluster is gone from its worker
    expect(hostExec('nkh2', 'pgrep -u nokube -x raylet || true').stdout.trim()).toBe('');
    // ...and everything else survived
    expect(tails()).toBe('1/1');
    expect(hostExec('nkh2', 'pgrep -u nokubepw -x raylet').stdout.trim()).toBe(otherRaylet);
    const st = await cli('status', files.inner);
    expect(st.json!.status, st.stderr).toBe('healthy');
    expect((await cli('stop', files.inner)).code).toBe(0);
  });
});

describe.skipIf(!e2eEnabled)('faults: unsafe storage, temp dirs and libraries on the nodes', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const one = (storage: string, name = 'solo') =>
    config(name, [{ ip: '10.88.0.14', name: 'head', role: 'head', storage }]);
  const cli = (cmd: string, f: string): Promise<CliRun> => nokube(['ray', cmd, '--config', f, ...flags, '--json']);

  beforeAll(() => {
    info = requireTestHosts();
    rayStopAll(info);
    dir = mkdtempSync(join(tmpdir(), 'nokube-faults-'));
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '120');
  });
  beforeEach(() => rayStopAll(info));
  afterAll(() => {
    if (info) rayStopAll(info);
  });

  it('a storage path that another user can write, or the login home, is refused naming it', async () => {
    hostExec('nkh4', 'mkdir -p /opt/nokube/data/shared && chmod 0777 /opt/nokube/data/shared');
    let r = await cli('start', write('shared.yaml', one('/opt/nokube/data/shared')));
    expect(r.code).toBe(1);
    expect(r.json!.errors!.map((e) => e.message).join('\n')).toMatch(
      /\/opt\/nokube\/data\/shared.*writable by other users/,
    );
    r = await cli('start', write('home.yaml', one('/home/nokube')));
    expect(r.code).toBe(1);
    expect(r.json!.errors!.map((e) => e.message).join('\n')).toMatch(/\/home\/nokube.*home directory/);
    expect(count('nkh4', '-x raylet')).toBe(0);
  });

  it('the /tmp/ray/nk-<hash> fallback is created 0700 and refused when another user made it first', async () => {
    // longer than 35 bytes: Ray's temp dir falls back to /tmp/ray/nk-<sha1(cluster NUL storage)[:10]>
    const storage = '/opt/nokube/data/a-rather-long-storage-path-for-ray';
    const hash = createHash('sha1').update(`solo\0${storage}`).digest('hex').slice(0, 10);
    const temp = `/tmp/ray/nk-${hash}`;
    hostExec('nkh4', `rm -rf ${temp}; mkdir -p /tmp/ray && chmod 1777 /tmp/ray`);
    hostExec('nkh4', `mkdir -p ${temp} && chmod 0777 ${temp}`, { user: 'nokubepw' });
    const f = write('long.yaml', one(storage));
    let r = await cli('start', f);
    expect(r.code).toBe(1);
    expect(r.json!.errors!.map((e) => e.message).join('\n')).toMatch(
      new RegExp(`${temp}.*(belongs to|owned by) nokubepw`),
    );
    expect(count('nkh4', '-x raylet')).toBe(0);
    hostExec('nkh4', `rm -rf ${temp}`);
    r = await cli('start', f);
    expect(r.code, r.stderr).toBe(0);
    expect(hostExec('nkh4', `stat -c '%a %U' ${temp}`).stdout.trim()).toBe('700 nokube');
    expect((await cli('stop', f)).code).toBe(0);
  });

  it('an uploaded library whose content does not match its hash is never run', async () => {
    const f = write('lib.yaml', one('/opt/nokube/data/libcheck'));
    expect((await cli('stop', f)).code).toBe(0); // uploads the library
    const lib = hostExec('nkh4', 'ls /opt/nokube/data/libcheck/lib/nokube_remote.*.py').stdout.trim();
    expect(lib).not.toBe('');
    // it ran as a module: Python keeps its bytecode beside it, so the next call does not compile it
    const cached = hostExec('nkh4', 'ls /opt/nokube/data/libcheck/lib/__pycache__/').stdout;
    expect(cached).toMatch(/^nokube_remote\.[0-9a-f]{12}\.cpython-\d+\.pyc$/m);
    // someone swaps the file's content (its name still claims the old hash)
    hostExec('nkh4', `printf 'import os\\nopen("/tmp/pwned","w").write("x")\\n' > ${lib}`, { user: 'nokube' });
    const r = await cli('stop', f);
    expect(r.code, r.stderr).toBe(0);
    expect(hostExec('nkh4', 'test -e /tmp/pwned && echo PWNED || echo clean').stdout.trim()).toBe('clean');
  });
});

describe.skipIf(!e2eEnabled)('faults: a storage path or interpreter the login user may not use', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  const run = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return nokube(['ray', 'start', '--config', p, ...flags, '--json']);
  };
  const two = (headStorage: string, spec: Record<string, unknown> = {}) =>
    clusterConfig({
      name: 'perms',
      spec,
      nodes: [
        { ip: '10.88.0.11', name: 'head', role: 'head', storage: headStorage },
        { ip: '10.88.0.12', name: 'w1', role: 'worker', storage: '/opt/nokube/data/perms' },
      ],
    });
  beforeAll(() => {
    info = requireTestHosts();
    rayStopAll(info);
    dir = mkdtempSync(join(tmpdir(), 'nokube-faults-'));
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '60');
  });
  afterAll(() => {
    if (info) rayStopAll(info);
  });

  it('an unwritable storage path is named as configured and its node is failed, not unreachable', async () => {
    // /opt/nokube is root's: the login user cannot create anything in it
    const r = await run('ro.yaml', two('/opt/nokube/cannot-write'));
    expect(r.code).toBe(1);
    const err = r.json!.errors!.find((e) => e.node === 'head')!;
    expect(err.message).toMatch(/storage path \/opt\/nokube\/cannot-write.*(not writable|Permission denied)/);
    expect(err.hint).toBeTruthy();
    expect(r.json!.nodes.map((n) => `${n.name}:${n.state}`)).toEqual(['head:failed', 'w1:stopped']);
    expect(count('nkh2', '-x raylet')).toBe(0);
  });

  it('an interpreter the login user may not execute is said so, and its node is failed, not unreachable', async () => {
    hostExec('nkh1', 'cp /usr/bin/python3 /opt/nokube/python-root-only && chmod 0700 /opt/nokube/python-root-only');
    const r = await run('py.yaml', two('/opt/nokube/data/perms', { python: '/opt/nokube/python-root-only' }));
    expect(r.code).toBe(1);
    const err = r.json!.errors!.find((e) => e.node === 'head')!;
    expect(err.message).toMatch(/interpreter "\/opt\/nokube\/python-root-only" cannot be run .*permission denied/);
    expect(r.json!.nodes.find((n) => n.name === 'head')!.state).toBe('failed');
  });
});

describe.skipIf(!e2eEnabled)('faults: dropped connections, dying and rebooted nodes', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  let file: string;
  const cli = (cmd: string, more: string[] = []): Promise<CliRun> =>
    nokube(['ray', cmd, '--config', file, ...flags, '--json', ...more]);

  beforeAll(() => {
    info = requireTestHosts();
    rayStopAll(info);
    dir = mkdtempSync(join(tmpdir(), 'nokube-faults-'));
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '45');
    file = join(dir, 'three.yaml');
    writeFileSync(file, config('drops', THREE));
  });
  afterAll(() => {
    if (info) {
      hostExec('nkh3', 'pkill -CONT -f "sshd: /usr/sbin/sshd" || true');
      rayStopAll(info);
    }
  });

  it('a worker whose SSH session is killed during start is reported, the others go on, and a re-run repairs it', async () => {
    const run = spawnCli(['ray', 'start', '--config', file, ...flags, '--json']);
    await until(() => /w2\s+starting/.test(run.output()), 120_000);
    hostExec('nkh3', 'pkill -KILL -f "sshd: nokube" || true');
    expect(await run.done).toBe(1);
    const doc = JSON.parse(run.output().slice(run.output().indexOf('{\n')));
    const w2 = doc.nodes.find((n: { name: string }) => n.name === 'w2');
    expect(['unreachable', 'failed']).toContain(w2.state);
    expect(doc.nodes.find((n: { name: string }) => n.name === 'w1').state).toBe('running');
    const again = await cli('start');
    expect(again.code, again.stderr).toBe(0);
    expect(again.json!.status).toBe('healthy');
    for (const h of ['nkh1', 'nkh2', 'nkh3']) expect(count(h, '-x raylet'), h).toBe(1);
  }, 300_000);

  it('a rebooted worker (all its Ray processes gone) is missing in status, and start restarts it alone', async () => {
    const keep = ['nkh1', 'nkh2'].map((h) => hostExec(h, 'pgrep -x raylet').stdout.trim());
    hostExec('nkh3', 'pkill -KILL -u nokube || true');
    await new Promise((r) => setTimeout(r, 1000));
    const st = await cli('status');
    expect(st.code).toBe(1);
    expect(st.json!.nodes.find((n) => n.name === 'w2')!.state).toBe('missing');
    const r = await cli('start');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.plan.map((p) => `${p.node}:${p.action}`)).toEqual(['head:keep', 'w1:keep', 'w2:start']);
    expect(['nkh1', 'nkh2'].map((h) => hostExec(h, 'pgrep -x raylet').stdout.trim())).toEqual(keep);
  }, 300_000);

  it('stop with a worker unreachable stops every other node, names it and exits 1', async () => {
    hostExec('nkh3', 'pkill -STOP -f "sshd: /usr/sbin/sshd"'); // its sshd answers no more
    try {
      const r = await cli('stop', ['--timeout', '8']);
      expect(r.code).toBe(1);
      expect(r.json!.nodes.map((n) => `${n.name}:${n.state}`)).toEqual([
        'head:stopped',
        'w1:stopped',
        'w2:unreachable',
      ]);
      expect(r.json!.errors!.map((e) => e.node)).toContain('w2');
      for (const h of ['nkh1', 'nkh2'])
        expect(hostExec(h, 'pgrep -u nokube -c -f "raylet|gcs_server|ray::" || true').stdout.trim(), h).toBe('0');
      expect(count('nkh3', '-x raylet')).toBe(1); // untouched
    } finally {
      hostExec('nkh3', 'pkill -CONT -f "sshd: /usr/sbin/sshd"');
    }
  }, 300_000);

  it('a worker whose SSH session is killed during stop is reported, the others are stopped, and a re-run finishes it', async () => {
    const up = await cli('start');
    expect(up.code, up.stderr).toBe(0);
    // w2's raylet frozen: its stop waits out the grace period with SIGTERM pending, a window to cut the session in
    hostExec('nkh3', 'pkill -STOP -x raylet');
    try {
      const run = spawnCli(['ray', 'stop', '--config', file, ...flags, '--json', '--no-drain']);
      const sigtermPending = () =>
        hostExec('nkh3', 'for p in $(pgrep -x raylet); do grep -E "^(SigPnd|ShdPnd)" /proc/$p/status; done')
          .stdout.match(/[0-9a-f]{16}/g)
          ?.some((mask) => (BigInt(`0x${mask}`) & 0x4000n) !== 0n) ?? false;
      await until(sigtermPending, 120_000);
      hostExec('nkh3', 'pkill -KILL -f "sshd: nokube" || true');
      expect(await run.done).toBe(1);
      const doc = JSON.parse(run.output().slice(run.output().indexOf('{\n')));
      const states = Object.fromEntries(doc.nodes.map((n: { name: string; state: string }) => [n.name, n.state]));
      expect(states.head).toBe('stopped');
      expect(states.w1).toBe('stopped');
      expect(['unreachable', 'failed']).toContain(states.w2);
      expect(JSON.stringify(doc.errors)).toContain('w2');
      for (const h of ['nkh1', 'nkh2'])
        expect(hostExec(h, 'pgrep -u nokube -c -f "raylet|gcs_server|ray::" || true').stdout.trim(), h).toBe('0');
    } finally {
      hostExec('nkh3', 'pkill -CONT -x raylet || true');
    }
    const again = await cli('stop');
    expect(again.code, again.stderr).toBe(0);
    expect(count('nkh3', '-x raylet')).toBe(0);
  }, 300_000);

  // Supervised (restart: always, the default), the node's supervisor starts such a raylet again (the
  // supervision e2e); unsupervised, the start says so.
  it('unsupervised (restart: never), a worker whose raylet dies just after it started makes start end degraded, naming it', async () => {
    rayStopAll(info);
    const never = join(dir, 'never.yaml');
    writeFileSync(never, config('drops', THREE, undefined, { restart: 'never' }));
    const run = spawnCli(['ray', 'start', '--config', never, ...flags, '--json']);
    await until(() => /w1\s+started/.test(run.output()), 180_000);
    hostExec('nkh2', 'pkill -KILL -x raylet');
    expect(await run.done).toBe(1);
    const doc = JSON.parse(run.output().slice(run.output().indexOf('{\n')));
    expect(doc.status).toBe('degraded');
    expect(doc.nodes.find((n: { name: string }) => n.name === 'w1').state).not.toBe('running');
    expect(JSON.stringify(doc.errors)).toContain('w1');
  }, 300_000);
});

describe.skipIf(!e2eEnabled)('faults: a dashboard bound to one address (ray_config.dashboard_host)', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  let file: string;
  const cli = (cmd: string, f: string, more: string[] = []): Promise<CliRun> =>
    nokube(['ray', cmd, '--config', f, ...flags, ...more]);
  const bound = (dashboardHost?: string) =>
    config('bound', [
      { ...THREE[0]!, storage: '/opt/nokube/data/b/head', ray: dashboardHost ? { dashboard_host: dashboardHost } : {} },
      { ...THREE[1]!, storage: '/opt/nokube/data/b/w1' },
    ]);
  /** The dashboard command has opened its forwards (its JSON line is out), or has ended. */
  const opened = (output: string) => output.includes('"dashboard-url"') || output.includes('nokube:');
  /** Whether a TCP connect from inside the head to host:port succeeds. */
  const answers = (host: string, port: number) =>
    hostExec(
      'nkh1',
      `python3 -c "import socket; s=socket.socket(); s.settimeout(3); print('open' if s.connect_ex(('${host}', ${port}))==0 else 'closed')"`,
    ).stdout.trim();

  beforeAll(() => {
    info = requireTestHosts();
    rayStopAll(info);
    dir = mkdtempSync(join(tmpdir(), 'nokube-faults-'));
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '120');
    file = join(dir, 'bound.yaml');
    writeFileSync(file, bound('10.88.0.11'));
  });
  afterAll(async () => {
    if (file) await cli('stop', file);
    if (info) rayStopAll(info);
  });

  it("binds the head's dashboard there only, and status and jobs still reach it", async () => {
    const start = await cli('start', file, ['--json']);
    expect(start.code, start.stderr).toBe(0);
    expect(start.json!.status).toBe('healthy');
    // from the head itself: the dashboard answers on its own address, not on loopback (so not on 0.0.0.0)
    expect(answers('10.88.0.11', 8265)).toBe('open');
    expect(answers('127.0.0.1', 8265)).toBe('closed');
    const status = await cli('status', file, ['--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.json!.status).toBe('healthy');
    // the job API through the head (remote_lib talks to the dashboard where start bound it)
    const job = await cli('job', file, ['submit', '--', 'echo', 'bound-dashboard-ok']);
    expect(job.code, job.stderr).toBe(0);
    expect(job.stdout).toContain('bound-dashboard-ok');
    // nokube ray dashboard forwards to where the dashboard listens, not to the head's loopback
    const dash = spawnCli([
      'ray',
      'dashboard',
      '--config',
      file,
      ...flags,
      '--json',
      '--port',
      '18365',
      '--client-port',
      '18101',
    ]);
    try {
      await until(() => opened(dash.output()), 180_000);
      expect(dash.output()).toContain('"dashboard-url":"http://127.0.0.1:18365"');
      // with the proof the command printed for scripts (a request without it gets no token: day-two)
      const cookie = /"cookie":"([^"]+)"/.exec(dash.output())![1];
      const version = await fetch('http://127.0.0.1:18365/api/version', { headers: { cookie } });
      expect(version.status).toBe(200);
      expect(((await version.json()) as { ray_version: string }).ray_version).toBe('2.60.0');
    } finally {
      dash.child.kill('SIGINT');
      await dash.done;
    }
  }, 420_000);

  it('leaving it out is a drift of the head: plan says restart, naming the field', async () => {
    const open = join(dir, 'open.yaml');
    writeFileSync(open, bound());
    const plan = await cli('plan', open, ['--json']);
    expect(plan.code, plan.stderr).toBe(0);
    const head = plan.json!.plan.find((p) => p.node === 'head')!;
    expect(head.action).toBe('restart');
    expect(head.drift).toContainEqual({ field: 'ray_config.dashboard_host', from: '10.88.0.11', to: '(unset)' });
    // (a restarted head restarts its workers too: they must rejoin it)
    expect(plan.json!.plan.find((p) => p.node === 'w1')!.action).toBe('restart');
  });
});
