// The whole lifecycle on real sshd + real Ray test hosts, through the bundled CLI, with checks made
// from outside the CLI: Ray's own view from inside the head, raylet PIDs, a Ray Client task.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nokube, type CliRun } from '../helpers/cli';
import { clusterConfig } from './cluster-config';
import { e2eEnabled, hostExec, rayStopAll, requireTestHosts, type HostsInfo } from './hosts';

const RAY_PROCS = 'raylet|gcs_server|dashboard|default_worker|ray_client_server|log_monitor';

function config(workerCpus: number[]): string {
  return clusterConfig({
    name: 'e2e',
    spec: { dashboard_port: 8265, max_workers: 10 },
    nodes: [
      {
        ip: '10.88.0.11',
        name: 'ray-head',
        role: 'head',
        ray: { dashboard_port: 8265 },
        storage: '/opt/nokube/data/ray/head',
      },
      ...workerCpus.map((cpus, i) => ({
        ip: `10.88.0.${12 + i}`,
        name: `ray-worker-${i + 1}`,
        role: 'worker' as const,
        ray: { num_cpus: cpus, resources: { slot: 1 } },
        storage: `/opt/nokube/data/ray/worker-${i + 1}`,
      })),
    ],
  });
}

/** PIDs of the raylet on a host (its node process), from inside the host. */
function rayletPid(host: string): string {
  return hostExec(host, 'pgrep -x raylet || true').stdout.trim();
}

function rayProcesses(host: string): string {
  return hostExec(host, `pgrep -a -f '${RAY_PROCS}' | grep -v pgrep || true`).stdout.trim();
}

/** Ray's own node table, read inside the head with Ray's state API (not through nokube). */
function headNodeTable(): { alive: string[]; cpus: Record<string, number> } {
  const py = `
import json, os
# Ray reads its auth settings when it is imported: set them first.
os.environ['RAY_AUTH_MODE'] = 'token' if os.path.exists('/opt/nokube/data/ray/head/state/auth_token') else 'disabled'
if os.environ['RAY_AUTH_MODE'] == 'token':
    os.environ['RAY_AUTH_TOKEN'] = open('/opt/nokube/data/ray/head/state/auth_token').read().strip()
import ray
ray.init(address='10.88.0.11:6379', logging_level='ERROR')
out = {'alive': [], 'cpus': {}}
for n in ray.nodes():
    name = (n.get('Labels') or {}).get('nokube.io/node')
    if n['Alive']:
        out['alive'].append(name)
        out['cpus'][name] = n['Resources'].get('CPU', 0)
print(json.dumps(out))
`;
  const r = hostExec('nkh1', ['python3', '-c', py], { user: 'nokube' });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

/** A fresh temp dir and the CLI flags that log in to the test hosts as `nokube` with the ed25519 key. */
function testSession(timeoutSec: number): { info: HostsInfo; dir: string; flags: string[] } {
  const info = requireTestHosts();
  rayStopAll(info);
  const dir = mkdtempSync(join(tmpdir(), 'nokube-e2e-'));
  const flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
  return { info, dir, flags: [...flags, '--timeout', String(timeoutSec)] };
}

describe.skipIf(!e2eEnabled)('cluster lifecycle on real test hosts', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  const cfg = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const cli = (cmd: string, file: string, more: string[] = []): Promise<CliRun> =>
    nokube(['ray', cmd, '--config', file, ...flags, '--json', ...more]);

  beforeAll(() => {
    ({ info, dir, flags } = testSession(120));
  });
  afterAll(() => {
    if (info) rayStopAll(info);
  });

  it('start brings up head + 2 workers; the head lists every node alive with its resources', async () => {
    const file = cfg('c1.yaml', config([2, 2]));
    const r = await cli('start', file, ['--timeline']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json!.status).toBe('healthy');
    expect(r.json!['alive-nodes']).toBe(3);
    // the timeline tells Ray's own `ray start` apart from the rest of each node's start
    const timeline = r.json!.timeline as {
      node: string;
      spans: { phase: string; startMs: number; endMs: number }[];
      rayStartMs?: number;
    }[];
    expect(timeline.map((t) => t.node)).toEqual(['ray-head', 'ray-worker-1', 'ray-worker-2']);
    for (const t of timeline) {
      const start = t.spans.find((s) => s.phase === 'start')!;
      expect(t.rayStartMs, t.node).toBeGreaterThan(500); // Ray takes seconds to start, never no time
      expect(t.rayStartMs, t.node).toBeLessThanOrEqual(start.endMs - start.startMs);
    }
    expect(r.json!['head-address']).toBe('10.88.0.11:6379');
    expect(r.json!['client-address']).toBe('ray://10.88.0.11:10001');
    expect(r.json!.changes).toBe(3);
    const table = headNodeTable();
    expect(table.alive.sort()).toEqual(['ray-head', 'ray-worker-1', 'ray-worker-2']);
    expect(table.cpus).toEqual({ 'ray-head': 1, 'ray-worker-1': 2, 'ray-worker-2': 2 });
  });

  it('the dashboard answers and a Ray Client connection runs a task on every node', async () => {
    const dash = await fetch('http://10.88.0.11:8265/');
    expect(dash.status).toBeLessThan(500);
    const token = hostExec('nkh1', 'cat /opt/nokube/data/ray/head/state/auth_token 2>/dev/null || true').stdout.trim();
    const py = `
import os, socket
if os.environ.get('TOKEN'):
    os.environ['RAY_AUTH_MODE'] = 'token'; os.environ['RAY_AUTH_TOKEN'] = os.environ['TOKEN']
import ray
import time
# Right after a start on a loaded 2-core machine, Ray's client proxy sometimes fails to spawn its
# per-client server ("SpecificServer startup failed", a Ray-side race); a second connect works.
for attempt in range(3):
    try:
        ray.init('ray://10.88.0.11:10001', logging_level='ERROR')
        break
    except Exception as e:
        if attempt == 2: raise
        print('retrying after:', type(e).__name__, flush=True)
        time.sleep(3)
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
@ray.remote(num_cpus=0)
def where(): return socket.gethostname()
nodes = [n['NodeID'] for n in ray.nodes() if n['Alive']]
names = set(ray.get([where.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n, soft=False)).remote() for n in nodes]))
print(','.join(sorted(names)))
`;
    const r = hostExec('nkh4', ['env', `TOKEN=${token}`, 'python3', '-c', py], { user: 'nokube', timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('nkh1,nkh2,nkh3');
  });

  it('status is healthy; a second start restarts nothing and reports 0 changes', async () => {
    const file = join(dir, 'c1.yaml');
    const before = ['nkh1', 'nkh2', 'nkh3'].map(rayletPid);
    const st = await cli('status', file);
    expect(st.code, st.stderr).toBe(0);
    expect(st.json!.status).toBe('healthy');
    expect(st.json!.nodes.map((n) => n.state)).toEqual(['running', 'running', 'running']);
    const again = await cli('start', file);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json!.changes).toBe(0);
    expect(again.json!.plan.map((p) => p.action)).toEqual(['keep', 'keep', 'keep']);
    expect(['nkh1', 'nkh2', 'nkh3'].map(rayletPid)).toEqual(before);
  });

  it('a changed worker is planned with its drift and restarted alone', async () => {
    const file = cfg('c2.yaml', config([2, 3]));
    const keep = ['nkh1', 'nkh2'].map(rayletPid);
    const changed = rayletPid('nkh3');
    const plan = await cli('plan', file);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.json!.plan.map((p) => `${p.node}:${p.action}`)).toEqual([
      'ray-head:keep',
      'ray-worker-1:keep',
      'ray-worker-2:restart',
    ]);
    expect(plan.json!.plan[2].drift).toContainEqual({ field: 'ray_config.num_cpus', from: '2', to: '3' });
    const r = await cli('start', file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.changes).toBe(1);
    expect(['nkh1', 'nkh2'].map(rayletPid)).toEqual(keep);
    expect(rayletPid('nkh3')).not.toBe(changed);
    expect(headNodeTable().cpus['ray-worker-2']).toBe(3);
  });

  it('a worker whose raylet was killed makes status degraded (exit 1)', async () => {
    const file = join(dir, 'c2.yaml');
    hostExec('nkh2', 'pkill -KILL -x raylet');
    let st: CliRun | undefined;
    for (let i = 0; i < 60; i++) {
      st = await cli('status', file);
      if (st.json?.status === 'degraded') break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(st!.json!.status).toBe('degraded');
    expect(st!.code).toBe(1);
    expect(st!.json!.nodes.find((n) => n.name === 'ray-worker-1')!.state).not.toBe('running');
    // start repairs it
    const r = await cli('start', file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.status).toBe('healthy');
  });

  it('stop leaves no Ray process on any host, and stopping again is fine', async () => {
    const file = join(dir, 'c2.yaml');
    const r = await cli('stop', file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.status).toBe('stopped');
    for (const h of ['nkh1', 'nkh2', 'nkh3']) expect(rayProcesses(h)).toBe('');
    const st = await cli('status', file);
    expect(st.json!.status).toBe('stopped');
    const again = await cli('stop', file);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json!.status).toBe('stopped');
  });
});

describe.skipIf(!e2eEnabled)('preflight catches trouble before anything starts', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  beforeAll(() => {
    ({ info, dir, flags } = testSession(60));
  });
  afterAll(() => {
    if (info) rayStopAll(info);
  });

  const run = (text: string, more: string[] = []) => {
    const p = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(p, text);
    return nokube(['ray', 'start', '--config', p, ...flags, '--json', ...more]);
  };
  const two = (workerUrl: string) =>
    clusterConfig({
      name: 'default',
      nodes: [
        { ip: '10.88.0.11', name: 'head', role: 'head' },
        { sshUrl: workerUrl, name: 'w', role: 'worker' },
      ],
    });

  it('an unreachable node: named, with a hint, and nothing started elsewhere', async () => {
    const r = await run(two('10.88.0.250:22'), ['--timeout', '5']);
    expect(r.code).toBe(1);
    const err = r.json!.errors!.find((e) => e.node === 'w')!;
    expect(err.message).toMatch(/10\.88\.0\.250/);
    expect(err.hint).toBeTruthy();
    // which node is in which state
    expect(r.json!.nodes.map((n) => `${n.name}:${n.state}`)).toEqual(['head:stopped', 'w:unreachable']);
    expect(rayProcesses('nkh1')).toBe('');
  });

  it('a node without Ray: "Ray is not installed" with the pip command', async () => {
    const bare = info.hosts.find((h) => !h.ray)!;
    const r = await run(two(`${bare.ip}:22`));
    expect(r.code).toBe(1);
    const err = r.json!.errors!.find((e) => e.node === 'w')!;
    expect(err.message).toContain('Ray is not installed');
    expect(err.hint).toMatch(/python3 -m pip install "ray\[default\]==2\.60\.0"/);
    expect(r.json!.nodes.map((n) => `${n.name}:${n.state}`)).toEqual(['head:stopped', 'w:failed']);
    expect(rayProcesses('nkh1')).toBe('');
  });

  it('a port already taken on the head by something else', async () => {
    const holder =
      "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 6379)); s.listen(); time.sleep(120)";
    hostExec('nkh1', `nohup python3 -c "${holder}" nokube-port-holder >/dev/null 2>&1 &`);
    try {
      await new Promise((r) => setTimeout(r, 500));
      const r = await run(two('10.88.0.12:22'));
      expect(r.code).toBe(1);
      const err = r.json!.errors!.find((e) => e.node === 'head')!;
      expect(err.message).toContain('port 6379 (gcs_port)');
      expect(err.hint).toContain('netstat -tlnp | grep :6379');
      expect(rayProcesses('nkh2')).toBe('');
    } finally {
      hostExec('nkh1', 'pkill -f nokube-port-holder || true');
    }
  });

  it('a changed host key is refused with its fingerprint and a known_hosts line', async () => {
    const wrong = info.hosts
      .find((h) => h.name === 'nkh2')!
      .host_keys.map((k) => `10.88.0.11 ${k}`)
      .join('\n');
    const kh = join(dir, 'wrong_known_hosts');
    writeFileSync(
      kh,
      wrong +
        '\n' +
        info.hosts
          .filter((h) => h.name !== 'nkh1')
          .flatMap((h) => h.host_keys.map((k) => `${h.ip} ${k}`))
          .join('\n') +
        '\n',
    );
    const r = await run(two('10.88.0.12:22'), ['--known-hosts', kh]);
    expect(r.code).toBe(1);
    const err = r.json!.errors!.find((e) => e.node === 'head')!;
    expect(err.message).toMatch(/SHA256:/);
    expect(r.stdout + r.stderr).toMatch(/10\.88\.0\.11 (ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) AAAA/);
    expect(rayProcesses('nkh2')).toBe('');
  });
});
