// Supervision by systemd for real: systemd-nspawn test hosts (systemd as PID 1, sshd, root login by
// key). The head and a worker are deployed as root (a system unit each), a second worker as `nokube`
// with linger on (a user unit). Checked inside the hosts as an operator would: `systemctl`, the unit
// file and `systemd-analyze verify`, the raylet's pid, a reboot, and `stop` removing the units.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nokube, type CliRun } from '../helpers/cli';
import { clusterConfig } from './cluster-config';
import { e2eEnabled, rebootHost, requireTestHosts, sshExec, testHost, testhosts, type HostsInfo } from './hosts';

const HEAD = 'nksdh';
const WORKER = 'nksdw';
const USER_WORKER = 'nksdu';
const CLUSTER = 'sdtest';

interface NodeOut {
  name: string;
  state: string;
  restarts: number | null;
  supervision: { launcher: string; state: string } | null;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

describe.skipIf(!e2eEnabled)('systemd supervision on systemd hosts', () => {
  let info: HostsInfo;
  let dir: string;
  let file: string;
  let flags: string[];
  const cli = (cmd: string, more: string[] = []): Promise<CliRun> =>
    nokube(['ray', cmd, '--config', file, ...flags, '--json', ...more], {}, 900_000);
  const nodes = async (): Promise<{ status: string; nodes: NodeOut[] }> => {
    const r = await cli('status');
    return JSON.parse(r.stdout) as { status: string; nodes: NodeOut[] };
  };
  // over SSH, as an operator of these machines would look (a login session: systemctl --user works too)
  const root = (host: string, cmd: string) => sshExec(testHost(host), cmd, { user: 'root' });
  const asNokube = (host: string, cmd: string) => sshExec(testHost(host), cmd, { user: 'nokube' });
  const raylet = (host: string) => root(host, 'pgrep -x raylet').stdout.trim();

  const restartsOf = (out: { nodes: NodeOut[] }, node: string) => out.nodes.find((n) => n.name === node)?.restarts ?? 0;

  async function healthyWithin(ms: number, also: (out: { nodes: NodeOut[] }) => boolean = () => true): Promise<number> {
    const t0 = Date.now();
    let last: unknown;
    while (Date.now() - t0 < ms) {
      const began = Date.now();
      const out = await nodes().catch((e: Error) => ({ status: e.message, nodes: [] }));
      last = out;
      if (out.status === 'healthy' && also(out)) return began - t0;
      await sleep(500);
    }
    throw new Error(`not healthy within ${ms} ms: ${JSON.stringify(last)}`);
  }

  beforeAll(() => {
    info = requireTestHosts();
    for (const name of [HEAD, WORKER, USER_WORKER]) {
      const r = testhosts('add', name, '--systemd');
      if (r.code !== 0) throw new Error(`testhosts.sh add ${name} --systemd failed: ${r.stderr}`);
    }
    // linger for nokube on the user worker: its user manager runs from boot, with no login open
    expect(root(USER_WORKER, 'loginctl enable-linger nokube && ls /var/lib/systemd/linger').stdout).toContain('nokube');
    dir = mkdtempSync(join(tmpdir(), 'nokube-systemd-'));
    const publicKey = readFileSync(`${info.client.keys.ed25519}.pub`, 'utf8').trim();
    file = join(dir, 'ray-config.yaml');
    writeFileSync(
      file,
      clusterConfig({
        name: CLUSTER,
        spec: { python: '/opt/nokube-venv/bin/python3' },
        nodes: [
          { name: 'sd-head', role: 'head', ip: testHost(HEAD).ip, storage: '/opt/nokube/sd/h' },
          { name: 'sd-worker', role: 'worker', ip: testHost(WORKER).ip, storage: '/opt/nokube/sd/w' },
          {
            name: 'sd-user-worker',
            role: 'worker',
            ip: testHost(USER_WORKER).ip,
            storage: '/opt/nokube/data/sd/u',
            extra: ['users:', '  - userid: nokube', `    sshkey: "${publicKey}"`],
          },
        ],
      }),
    );
    flags = ['--user', 'root', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '400');
  }, 600_000);
  afterAll(() => {
    for (const name of [HEAD, WORKER, USER_WORKER]) testhosts('rm', name);
  });

  it('start installs a system unit as root and a user unit under linger, each verified by systemd', async () => {
    const r = await cli('start');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = await nodes();
    expect(out.status).toBe('healthy');
    const launcher = Object.fromEntries(out.nodes.map((n) => [n.name, n.supervision?.launcher]));
    expect(launcher).toEqual({ 'sd-head': 'systemd', 'sd-worker': 'systemd', 'sd-user-worker': 'systemd-user' });
    for (const host of [HEAD, WORKER]) {
      const unit = root(host, `ls /etc/systemd/system/ | grep '^nokube-ray-${CLUSTER}-'`).stdout.trim();
      expect(unit).toMatch(new RegExp(`^nokube-ray-${CLUSTER}-[0-9a-f]{8}\\.service$`));
      const status = root(host, `systemctl status --no-pager ${unit}`);
      expect(status.code, status.stdout).toBe(0);
      expect(status.stdout).toContain('Active: active (running)');
      expect(root(host, `systemctl is-enabled ${unit}`).stdout.trim()).toBe('enabled');
      // the unit file as systemd itself checks it
      const verify = root(host, `systemd-analyze verify /etc/systemd/system/${unit} 2>&1; echo rc=$?`);
      expect(verify.stdout.trim().split('\n').at(-1), verify.stdout).toBe('rc=0');
      expect(verify.stdout).not.toMatch(/nokube-ray.*(Unknown|Invalid|Failed)/);
    }
    const userUnit = asNokube(USER_WORKER, `ls ~/.config/systemd/user/ | grep '^nokube-ray-${CLUSTER}-'`).stdout.trim();
    expect(userUnit).toMatch(/\.service$/);
    expect(asNokube(USER_WORKER, `systemctl --user is-active ${userUnit}`).stdout.trim()).toBe('active');
    expect(asNokube(USER_WORKER, `systemctl --user is-enabled ${userUnit}`).stdout.trim()).toBe('enabled');
  }, 900_000);

  it("kill -9 of a worker's raylet: systemd's supervisor has it running again within 15 s", async () => {
    const before = raylet(WORKER);
    expect(before).toMatch(/^\d+$/);
    const t0 = Date.now();
    expect(root(WORKER, 'pkill -9 -x raylet').code).toBe(0);
    let now = '';
    while (Date.now() - t0 < 15_000) {
      now = raylet(WORKER);
      if (now && now !== before) break;
      await sleep(250);
    }
    console.log(`systemd worker: raylet kill -> new raylet ${Date.now() - t0} ms`);
    expect(now).toMatch(/^\d+$/);
    expect(now).not.toBe(before);
    await healthyWithin(60_000);
    const out = await nodes();
    expect(out.nodes.find((n) => n.name === 'sd-worker')!.restarts).toBeGreaterThanOrEqual(1);
  }, 300_000);

  it("a reboot of the root worker and of the linger worker: back in the head's view within 60 s", async () => {
    for (const [host, node] of [
      [WORKER, 'sd-worker'],
      [USER_WORKER, 'sd-user-worker'],
    ]) {
      const before = restartsOf(await nodes(), node);
      const t0 = Date.now();
      rebootHost(host);
      // healthy only once Ray runs again there: right after the reboot the head may not have noticed yet
      const bootId = () => root(host, 'cat /proc/sys/kernel/random/boot_id; pgrep -x raylet').stdout;
      while (!/\n\d+/.test(bootId())) {
        if (Date.now() - t0 > 60_000) throw new Error(`no raylet on ${host} within 60 s of its reboot`);
        await sleep(500);
      }
      // and status counts the restart the reboot was (systemd stopped the unit cleanly on the way down)
      const ms = await healthyWithin(60_000 - (Date.now() - t0), (out) => restartsOf(out, node) > before);
      console.log(`systemd ${host}: reboot -> healthy ${Date.now() - t0} ms (status saw it after ${ms} ms)`);
    }
  }, 600_000);

  it('stop removes every unit, and nothing restarts afterwards', async () => {
    const r = await cli('stop');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const host of [HEAD, WORKER]) {
      expect(root(host, `ls /etc/systemd/system/ | grep -c '^nokube-ray-' || true`).stdout.trim()).toBe('0');
      expect(root(host, `systemctl list-units --all --no-legend 'nokube-ray-*' | wc -l`).stdout.trim()).toBe('0');
    }
    expect(
      asNokube(USER_WORKER, 'ls ~/.config/systemd/user/ 2>/dev/null | grep -c nokube-ray || true').stdout.trim(),
    ).toBe('0');
    // twice the longest backoff (30 s): no Ray comes back on any node
    await sleep(60_000);
    for (const host of [HEAD, WORKER, USER_WORKER]) expect(raylet(host)).toBe('');
  }, 600_000);
});
