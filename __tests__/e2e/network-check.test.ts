// The network between the nodes, with real packet filtering in a host's network namespace (nftables):
// a pinned port dropped between two workers is named by `plan` and by `start` before anything starts;
// with Ray's random ports the same drop is found by `check` after `start`; the rules `nokube ray
// firewall --format nftables` prints, loaded under a default-drop input policy, let the cluster start
// healthy and `check` pass. The check's own listeners are never left behind, even when nokube is
// killed in the middle. Real sshd and real Ray, through the bundled CLI.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO, ensureDist, nokube, type CliRun } from '../helpers/cli';
import { clusterConfig } from './cluster-config';
import {
  clearFirewall,
  dropPort,
  e2eEnabled,
  hostExec,
  nftApply,
  rayStopAll,
  requireTestHosts,
  type HostsInfo,
} from './hosts';

const PINNED = {
  node_manager_port: 8076,
  object_manager_port: 8077,
  runtime_env_agent_port: 8078,
  dashboard_agent_grpc_port: 8079,
  metrics_export_port: 8080,
  min_worker_port: 11000,
  max_worker_port: 11020,
};

const NODES = [
  { host: 'nkh1', ip: '10.88.0.11', name: 'ray-head', role: 'head' as const },
  { host: 'nkh2', ip: '10.88.0.12', name: 'ray-worker-1', role: 'worker' as const },
  { host: 'nkh3', ip: '10.88.0.13', name: 'ray-worker-2', role: 'worker' as const },
];

function config(pinned: boolean): string {
  return clusterConfig({
    name: 'e2e-net',
    specLines: pinned ? ['ports:', ...Object.entries(PINNED).map(([k, v]) => `  ${k}: ${v}`)] : [],
    nodes: NODES.map((n) => ({ ip: n.ip, name: n.name, role: n.role, storage: `/opt/nokube/data/net/${n.name}` })),
  });
}

/** TCP listeners inside a host: port and process name. */
function listeners(host: string): { port: number; process: string }[] {
  const r = hostExec(host, 'ss -ltnpH');
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.trim().split(/\s+/))
    .map((f) => ({
      port: Number(f[3]!.slice(f[3]!.lastIndexOf(':') + 1)),
      process: /users:\(\("([^"]+)"/.exec(f.slice(5).join(' '))?.[1] ?? '?',
    }));
}

/** Listeners nokube's `listen` would hold: a python on one of the ports it tests (Ray's are raylet, gcs_server...). */
function leftover(): string[] {
  const ports = new Set<number>([...Object.values(PINNED), 6379, 52365, 11010, 10002, 15000, 19999]);
  return NODES.flatMap((n) =>
    listeners(n.host)
      .filter((l) => l.process.startsWith('python') && ports.has(l.port))
      .map((l) => `${n.name}:${l.port} (${l.process})`),
  );
}

async function until(what: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return what();
}

/** The object manager port of a node, from the head's own node table. */
function objectManagerPort(name: string): number {
  const py = `
import json, os
tok = '/opt/nokube/data/net/ray-head/state/auth_token'
if os.path.exists(tok):
    os.environ['RAY_AUTH_MODE'] = 'token'
    os.environ['RAY_AUTH_TOKEN'] = open(tok).read().strip()
import ray
ray.init(address='10.88.0.11:6379', logging_level='ERROR')
print(json.dumps({(n.get('Labels') or {}).get('nokube.io/node'): n['ObjectManagerPort'] for n in ray.nodes() if n['Alive']}))
`;
  const r = hostExec('nkh1', ['python3', '-c', py], { user: 'nokube' });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!)[name];
}

const messages = (r: CliRun) => (r.json?.errors ?? []).map((e) => e.message);

describe.skipIf(!e2eEnabled)('the network between the nodes', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  let file: string;
  const cli = (cmd: string, more: string[] = []): Promise<CliRun> =>
    nokube(['ray', cmd, '--config', file, ...flags, '--json', ...more]);
  const clearAll = () => NODES.forEach((n) => clearFirewall(n.host));

  beforeAll(() => {
    info = requireTestHosts();
    rayStopAll(info);
    clearAll();
    dir = mkdtempSync(join(tmpdir(), 'nokube-e2e-net-'));
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '150');
    file = join(dir, 'ray-config.yaml');
  });
  afterAll(() => {
    if (!info) return;
    clearAll();
    rayStopAll(info);
  });

  it('a pinned port dropped between two workers: plan and start name it, and nothing starts', async () => {
    writeFileSync(file, config(true));
    // ray-worker-1 drops ray-worker-2's connections to its object manager port
    dropPort('nkh2', '10.88.0.13', PINNED.object_manager_port);
    const want =
      'ray-worker-2 cannot reach ray-worker-1 (10.88.0.12):8077, object manager: connection timed out, a firewall? allow TCP 8077 from 10.88.0.13';

    const plan = await cli('plan');
    expect(plan.code, plan.stdout + plan.stderr).toBe(1);
    expect(messages(plan)).toEqual([want]);

    const start = await cli('start');
    expect(start.code, start.stdout + start.stderr).toBe(1);
    expect(messages(start)).toEqual([want]);
    expect(start.stderr).toContain('nothing was started or stopped');
    for (const n of NODES) expect(listeners(n.host).map((l) => l.process)).not.toContain('raylet');
    // the check's own listeners are gone
    expect(leftover()).toEqual([]);
  }, 480_000);

  it('a listener is never left behind, even when nokube is killed while it listens', async () => {
    ensureDist();
    const child = spawn('node', [CLI, 'ray', 'plan', '--config', file, ...flags], { cwd: REPO, stdio: 'ignore' });
    try {
      // the blocked pair keeps the listeners up for a while: nokube is killed then
      const up = await until(
        () => listeners('nkh2').some((l) => l.port === PINNED.object_manager_port && l.process.startsWith('python')),
        60_000,
      );
      expect(up, 'the listener on ray-worker-1 came up').toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await until(() => leftover().length === 0, 5_000), leftover().join(', ')).toBe(true);
    clearAll();
  });

  it('random ports: the same drop is found by check after start; check passes once it is lifted', async () => {
    writeFileSync(file, config(false));
    const start = await cli('start');
    expect(start.code, start.stdout + start.stderr).toBe(0);
    expect(start.json!.status).toBe('healthy');

    const ok = await cli('check');
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const check = ok.json!.check as { pairs: { from: string; to: string; ok: boolean; ms: number }[] };
    expect(check.pairs).toHaveLength(6);
    expect(check.pairs.every((p) => p.ok)).toBe(true);

    const port = objectManagerPort('ray-worker-1');
    expect(port).toBeGreaterThan(0);
    dropPort('nkh2', '10.88.0.13', port);
    const bad = await cli('check');
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    const failed = (bad.json!.check as typeof check).pairs.filter((p) => !p.ok).map((p) => `${p.from}>${p.to}`);
    // Ray moves an object by a pull request to the holder's object manager, then the holder pushes it
    // to the fetcher's: the port ray-worker-1 drops breaks both directions between the two workers
    expect(failed).toContain('ray-worker-1>ray-worker-2');
    expect(failed.filter((p) => !['ray-worker-1>ray-worker-2', 'ray-worker-2>ray-worker-1'].includes(p))).toEqual([]);
    expect(messages(bad)).toContain(
      `ray-worker-2 cannot reach ray-worker-1 (10.88.0.12):${port}, object manager: connection timed out, a firewall?`,
    );
    expect(messages(bad).some((m) => m.startsWith('ray-worker-2 could not fetch an object from ray-worker-1'))).toBe(
      true,
    );
    // the terminal's table
    const text = await nokube(['ray', 'check', '--config', file, ...flags]);
    expect(text.stdout).toMatch(/ray-worker-1\s+ray-worker-2\s+failed/);
    clearAll();
    // a raylet retries a connection that timed out after a growing backoff (gRPC's): an operator who
    // lifts the rule sees check pass once the two raylets have connected again, within a minute
    const t0 = Date.now();
    let again = await cli('check');
    while (again.code !== 0 && Date.now() - t0 < 60_000) {
      await new Promise((r) => setTimeout(r, 5_000));
      again = await cli('check');
    }
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(leftover()).toEqual([]);
  }, 480_000);

  it('the rules `firewall --format nftables` prints, under a default-drop policy: start healthy, check passes', async () => {
    rayStopAll(info);
    writeFileSync(file, config(true));
    const printed = await nokube(['ray', 'firewall', '--config', file, '--format', 'nftables']);
    expect(printed.code, printed.stderr).toBe(0);
    const parts = printed.stdout.split(/\n(?=# node )/).slice(1);
    expect(parts).toHaveLength(3);
    for (const n of NODES) {
      const part = parts.find((p) => p.startsWith(`# node ${n.name} `))!;
      // a host that drops everything it was not told to accept
      nftApply(
        n.host,
        `add table inet filter\nadd chain inet filter input { type filter hook input priority filter; policy drop; }\n${part}\n`,
      );
    }
    // the policy bites: a port no rule opens is dropped
    const closed = hostExec('nkh2', `timeout 3 bash -c 'exec 3<>/dev/tcp/10.88.0.13/9999'`);
    expect(closed.code).toBe(124);

    const start = await cli('start');
    expect(start.code, start.stdout + start.stderr).toBe(0);
    expect(start.json!.status).toBe('healthy');
    const check = await cli('check');
    expect(check.code, check.stdout + check.stderr).toBe(0);
  }, 480_000);
});
