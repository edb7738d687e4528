// Every port Ray opens, pinned in ray_spec.ports (and one node's own): a real 3-node cluster starts
// on the test hosts, and on each node Ray listens on exactly those ports (ss inside the host, and the
// head's own node table); a pinned port taken by another process is named by start before anything
// starts. Real sshd and real Ray, through the bundled CLI.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nokube, type CliRun } from '../helpers/cli';
import { clusterConfig } from './cluster-config';
import { e2eEnabled, hostExec, rayStopAll, requireTestHosts, type HostsInfo } from './hosts';

const SHARED = {
  node_manager_port: 8076,
  object_manager_port: 8077,
  runtime_env_agent_port: 8078,
  dashboard_agent_grpc_port: 8079,
  dashboard_agent_listen_port: 52400,
  metrics_export_port: 8080,
  min_worker_port: 11000,
  max_worker_port: 11020,
};
/** ray-worker-2 pins its own node manager port: a node's ray_config wins over ray_spec.ports. */
const OWN = { node_manager_port: 9076 };
const HEAD = { port: 10001, gcs_port: 6379, dashboard_port: 8265 };
const HEAD_METRICS = [44217, 44227];

const NODES = [
  { host: 'nkh1', ip: '10.88.0.11', name: 'ray-head', role: 'head' as const, ray: {} },
  { host: 'nkh2', ip: '10.88.0.12', name: 'ray-worker-1', role: 'worker' as const, ray: {} },
  { host: 'nkh3', ip: '10.88.0.13', name: 'ray-worker-2', role: 'worker' as const, ray: OWN },
];

function config(): string {
  return clusterConfig({
    name: 'e2e-ports',
    specLines: ['ports:', ...Object.entries(SHARED).map(([k, v]) => `  ${k}: ${v}`)],
    nodes: NODES.map((n) => ({
      ip: n.ip,
      name: n.name,
      role: n.role,
      ray: n.ray,
      storage: `/opt/nokube/data/ray/${n.name}`,
    })),
  });
}

/** The single ports a node's Ray must listen on, by key. */
function wanted(node: (typeof NODES)[number]): Record<string, number> {
  const { min_worker_port: _min, max_worker_port: _max, ...single } = SHARED;
  return { ...(node.role === 'head' ? HEAD : {}), ...single, ...node.ray };
}

/** TCP ports listened on inside a host, not on loopback only, with the listening process. */
function listeners(host: string): { port: number; process: string }[] {
  const r = hostExec(host, 'ss -ltnpH');
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => !/^(127\.|\[::1\])/.test(f[3]!))
    .map((f) => ({
      port: Number(f[3]!.slice(f[3]!.lastIndexOf(':') + 1)),
      process: /users:\(\("([^"]+)"/.exec(f.slice(5).join(' '))?.[1] ?? '?',
    }));
}

/** The head's own node table (Ray's state API inside the head): ports per node name. */
function nodeTable(): Record<
  string,
  { NodeManagerPort: number; ObjectManagerPort: number; MetricsExportPort: number }
> {
  const py = `
import json, os
tok = '/opt/nokube/data/ray/ray-head/state/auth_token'
os.environ['RAY_AUTH_MODE'] = 'token' if os.path.exists(tok) else 'disabled'
if os.environ['RAY_AUTH_MODE'] == 'token':
    os.environ['RAY_AUTH_TOKEN'] = open(tok).read().strip()
import ray
ray.init(address='10.88.0.11:6379', logging_level='ERROR')
print(json.dumps({(n.get('Labels') or {}).get('nokube.io/node'): {k: n[k] for k in ('NodeManagerPort', 'ObjectManagerPort', 'MetricsExportPort')} for n in ray.nodes() if n['Alive']}))
`;
  const r = hostExec('nkh1', ['python3', '-c', py], { user: 'nokube' });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

describe.skipIf(!e2eEnabled)('every port Ray opens, pinned', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  let file: string;
  const cli = (cmd: string, more: string[] = []): Promise<CliRun> =>
    nokube(['ray', cmd, '--config', file, ...flags, '--json', ...more]);

  beforeAll(() => {
    info = requireTestHosts();
    rayStopAll(info);
    dir = mkdtempSync(join(tmpdir(), 'nokube-e2e-ports-'));
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '150');
    file = join(dir, 'ray-config.yaml');
    writeFileSync(file, config());
  });
  afterAll(() => {
    if (info) rayStopAll(info);
  });

  it('a pinned port taken by another process is named by start, before anything starts', async () => {
    // a listener on ray-worker-1's object manager port, as another program would hold it
    const holder = hostExec(
      'nkh2',
      `nohup python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', ${SHARED.object_manager_port})); s.listen(); time.sleep(600)" >/dev/null 2>&1 & echo $!`,
    );
    const pid = holder.stdout.trim();
    try {
      for (let i = 0; i < 50 && !listeners('nkh2').some((l) => l.port === SHARED.object_manager_port); i++)
        await new Promise((r) => setTimeout(r, 100));
      const r = await cli('start');
      expect(r.code, r.stdout).toBe(1);
      expect(r.stdout).toContain(
        `port ${SHARED.object_manager_port} (object_manager_port) is already in use on 10.88.0.12 by another process`,
      );
      for (const node of NODES) expect(listeners(node.host).map((l) => l.process)).not.toContain('raylet');
    } finally {
      hostExec('nkh2', `kill ${pid} || true`);
    }
  });

  it('start: on each node Ray listens on exactly the pinned ports, and the head lists them', async () => {
    const r = await cli('start');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json!.status).toBe('healthy');

    const table = nodeTable();
    for (const node of NODES) {
      const want = wanted(node);
      const ray = listeners(node.host).filter((l) => l.process !== 'sshd');
      const ports = new Set(ray.map((l) => l.port));
      // every pinned port is listened on at this node
      for (const [key, port] of Object.entries(want)) expect(ports.has(port), `${node.name} ${key} ${port}`).toBe(true);
      // and nothing else but the worker range (each worker process binds one port from it)
      // the head's own Prometheus endpoints (autoscaler 44217, dashboard 44227) are fixed, head only, and
      // no node connects to them: not ray start ports (a monitoring host scrapes them)
      const pinned = new Set([...Object.values(want), ...(node.role === 'head' ? HEAD_METRICS : [])]);
      const other = ray.filter(
        (l) => !pinned.has(l.port) && (l.port < SHARED.min_worker_port || l.port > SHARED.max_worker_port),
      );
      expect(other, `${node.name}: listeners outside the pinned ports`).toEqual([]);
      expect(table[node.name]).toEqual({
        NodeManagerPort: want.node_manager_port,
        ObjectManagerPort: want.object_manager_port,
        MetricsExportPort: want.metrics_export_port,
      });
    }
  });

  it('a changed pinned port is drift: plan restarts that node only', async () => {
    writeFileSync(file, config().replace('node_manager_port: 9076', 'node_manager_port: 9077'));
    const r = await cli('plan');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json!.plan.map((p) => [p.node, p.action])).toEqual([
      ['ray-head', 'keep'],
      ['ray-worker-1', 'keep'],
      ['ray-worker-2', 'restart'],
    ]);
  });
});
