// `status` shows what the cluster is doing, on real sshd + real Ray test hosts: a job's task holding
// 2 CPUs shows as used on the worker it runs on and in total, a task asking for more than the cluster
// has shows as pending demand, the same in --json and in the Action's outputs; `status --watch 1`
// piped prints a line when the used CPUs change, stops on SIGINT with exit 0, over one SSH
// connection per node (counted in each host's sshd log).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionBundle, runAction } from '../action/runner';
import { CLI, REPO, ensureDist, nokube, type CliRun } from '../helpers/cli';
import { clusterConfig } from './cluster-config';
import { TESTHOSTS_DIR, e2eEnabled, hostExec, rayStopAll, requireTestHosts, type HostsInfo } from './hosts';

const RELEASE = `/tmp/nokube-status-release-${process.pid}`;

// head: 1 CPU, worker: 2 CPUs (3 in all). The job's driver runs on the head with no CPU; `hold` needs
// 2 CPUs, so it runs on the worker, until the test creates RELEASE there; `huge` can never run.
const CONFIG = clusterConfig({
  name: 'e2e-status',
  spec: { dashboard_port: 8265, max_workers: 4 },
  nodes: [
    {
      ip: '10.88.0.11',
      name: 'ray-head',
      role: 'head',
      ray: { dashboard_port: 8265 },
      storage: '/opt/nokube/data/ray/st-head',
    },
    {
      ip: '10.88.0.12',
      name: 'ray-worker-1',
      role: 'worker',
      ray: { num_cpus: 2 },
      storage: '/opt/nokube/data/ray/st-w1',
    },
  ],
});

const JOB_PY = `import os, time
import ray
ray.init()
@ray.remote(num_cpus=2)
def hold():
    while not os.path.exists(${JSON.stringify(RELEASE)}):
        time.sleep(0.2)
    return "released"
@ray.remote(num_cpus=64)
def huge():
    return 1
pending = huge.remote()
print(ray.get(hold.remote()), flush=True)
time.sleep(3600)
`;

interface Use {
  used: number;
  total: number;
}
interface StatusJson {
  'cpus-used': number | '';
  'cpus-total': number | '';
  resources: {
    known: boolean;
    total: Record<string, Use>;
    pending: { kind: string; bundles: { resources: Record<string, number>; count: number }[]; count: number }[];
  } | null;
  nodes: { name: string; state: string; usage?: Record<string, Use> }[];
}

function accepted(host: string): number {
  const log = readFileSync(join(TESTHOSTS_DIR, host, 'sshd.log'), 'utf8');
  return log.split('\n').filter((l) => l.includes('Accepted publickey')).length;
}

describe.skipIf(!e2eEnabled)('status: what the cluster is doing', () => {
  let info: HostsInfo;
  let dir: string;
  let file: string;
  let flags: string[];
  const cli = (args: string[]): Promise<CliRun> =>
    nokube(['ray', args[0], '--config', file, ...flags, ...args.slice(1)]);

  /** `status --json` until `ok` holds for it (Ray's autoscaler reports every ~5 s). */
  async function statusUntil(ok: (s: StatusJson) => boolean, what: string, ms = 90_000): Promise<StatusJson> {
    const deadline = Date.now() + ms;
    let last: StatusJson | undefined;
    while (Date.now() < deadline) {
      const r = await cli(['status', '--json']);
      last = JSON.parse(r.stdout) as StatusJson;
      if (ok(last)) return last;
      await new Promise((res) => setTimeout(res, 1000));
    }
    throw new Error(`status never showed ${what}; last: ${JSON.stringify(last, null, 2)}`);
  }

  beforeAll(async () => {
    info = requireTestHosts();
    rayStopAll(info);
    hostExec('nkh2', `rm -f ${RELEASE}`);
    dir = mkdtempSync(join(tmpdir(), 'nokube-status-'));
    file = join(dir, 'ray-config.yaml');
    writeFileSync(file, CONFIG);
    writeFileSync(join(dir, 'job.py'), JOB_PY);
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    const r = await nokube(['ray', 'start', '--config', file, ...flags, '--timeout', '180']);
    expect(r.code, r.stderr).toBe(0);
  }, 400_000);

  afterAll(() => {
    if (info) {
      hostExec('nkh2', `rm -f ${RELEASE}`);
      rayStopAll(info);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an idle cluster: 0 of 3 CPUs used, per node and in total, nothing pending', async () => {
    const s = await statusUntil((x) => x['cpus-total'] === 3, '3 CPUs in total');
    expect(s['cpus-used']).toBe(0);
    expect(s.resources?.known).toBe(true);
    expect(s.resources?.pending).toEqual([]);
    expect(s.resources?.total.object_store_memory.total).toBeGreaterThan(0);
    const byName = Object.fromEntries(s.nodes.map((n) => [n.name, n.usage?.CPU]));
    expect(byName).toEqual({ 'ray-head': { used: 0, total: 1 }, 'ray-worker-1': { used: 0, total: 2 } });
    const text = await cli(['status']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /^resources \(used\/total\): CPU 0\/3, memory [^,]+, object_store_memory [\d.]+ \w+\/[\d.]+ \w+$/m,
    );
    expect(text.stdout).toMatch(/^pending demand: none$/m);
  }, 150_000);

  it('under a job: its 2 CPUs used on the worker and in total, its 64-CPU task pending; --json, terminal and the Action agree', async () => {
    const submit = await cli(['job', 'submit', '--no-wait', '--working-dir', dir, '--', 'python', 'job.py']);
    expect(submit.code, submit.stderr + submit.stdout).toBe(0);
    const s = await statusUntil(
      (x) => x['cpus-used'] === 2 && !!x.resources?.pending.length,
      '2 CPUs used and a pending demand',
    );
    expect(s['cpus-total']).toBe(3);
    expect(s.resources!.total.CPU).toEqual({ used: 2, total: 3 });
    const byName = Object.fromEntries(s.nodes.map((n) => [n.name, n.usage?.CPU]));
    expect(byName).toEqual({ 'ray-head': { used: 0, total: 1 }, 'ray-worker-1': { used: 2, total: 2 } });
    expect(s.resources!.pending).toContainEqual(
      expect.objectContaining({ kind: 'tasks', bundles: [{ resources: { CPU: 64 }, count: 1 }] }),
    );

    const text = await cli(['status']);
    expect(text.stdout).toMatch(/^\s+ray-worker-1\s+worker\s+10\.88\.0\.12\s+running\s+\S+\s+CPU 2\/2, /m);
    expect(text.stdout).toMatch(/^\s+ray-head\s+head\s+10\.88\.0\.11\s+running\s+\S+\s+CPU 0\/1, /m);
    expect(text.stdout).toMatch(/^resources \(used\/total\): CPU 2\/3, /m);
    expect(text.stdout).toMatch(/^pending demand\n {2}\{CPU: 64\}: \d+\+ pending tasks\/actors$/m);

    // the Action, as the runner runs it: the same figures in its outputs and its job summary
    const workspace = mkdtempSync(join(tmpdir(), 'nokube-status-ws-'));
    try {
      writeFileSync(join(workspace, 'ray-config.yaml'), CONFIG);
      const run = await runAction({
        inputs: {
          command: 'status',
          config: 'ray-config.yaml',
          'ssh-private-key': readFileSync(info.client.keys.ed25519, 'utf8'),
          'known-hosts': readFileSync(info.client.known_hosts, 'utf8'),
          'ssh-user': 'nokube',
          timeout: '120',
        },
        workspace,
        entry: actionBundle(),
        timeoutMs: 200_000,
      });
      expect(run.code, run.stdout).toBe(0);
      expect(run.outputs['cpus-used']).toBe('2');
      expect(run.outputs['cpus-total']).toBe('3');
      const resources = JSON.parse(run.outputs.resources) as NonNullable<StatusJson['resources']>;
      expect(resources.total.CPU).toEqual({ used: 2, total: 3 });
      expect(resources.pending).toContainEqual(
        expect.objectContaining({ kind: 'tasks', bundles: [{ resources: { CPU: 64 }, count: 1 }] }),
      );
      const nodes = JSON.parse(run.outputs.nodes) as StatusJson['nodes'];
      expect(nodes.find((n) => n.name === 'ray-worker-1')?.usage?.CPU).toEqual({ used: 2, total: 2 });
      expect(run.summary).toContain('### Resources');
      expect(run.summary).toMatch(/Used \/ total: CPU 2\/3, /);
      expect(run.summary).toMatch(/- \{CPU: 64\}: \d+\+ pending tasks\/actors/);
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  }, 300_000);

  it('status --watch 1, piped: a line when the used CPUs change, exit 0 on SIGINT, one SSH connection per node', async () => {
    ensureDist();
    const before = { nkh1: accepted('nkh1'), nkh2: accepted('nkh2') };
    const child = spawn('node', [CLI, 'ray', 'status', '--config', file, ...flags, '--watch', '1'], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const waitFor = async (re: RegExp, what: string, ms = 60_000) => {
      const deadline = Date.now() + ms;
      while (!re.test(stdout)) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`no ${what} in the watch's output:\n${stdout}\nstderr:\n${stderr}`);
        await new Promise((res) => setTimeout(res, 200));
      }
    };
    try {
      await waitFor(/used CPU 2\/3, /, 'line with 2 of 3 CPUs used');
      const linesBefore = stdout.trim().split('\n').length;
      // the job's `hold` task ends: its 2 CPUs are free again (seen within Ray's ~5 s report)
      hostExec('nkh2', `touch ${RELEASE}`);
      await waitFor(/used CPU 0\/3, [^\n]*pending \{CPU: 64\}/, 'line with 0 of 3 CPUs used');
      // a few more rounds with nothing changed: no more lines
      await new Promise((res) => setTimeout(res, 3000));
      const lines = stdout.trim().split('\n');
      expect(lines.length).toBeGreaterThan(linesBefore);
      for (const l of lines)
        expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ healthy: 2 of 2 nodes alive; used CPU \d\/3, /);
      const bodies = lines.map((l) => l.replace(/^\S+ /, ''));
      for (let i = 1; i < bodies.length; i++) expect(bodies[i]).not.toBe(bodies[i - 1]);
      expect(lines.at(-1)).toContain('ray-head running CPU 0/1, ray-worker-1 running CPU 0/2');
    } finally {
      child.kill('SIGINT');
    }
    const code = await Promise.race([exited, new Promise((res) => setTimeout(() => res('still running'), 10_000))]);
    expect(code, stderr).toBe(0);
    expect(stderr).not.toMatch(/error|Error/);
    // every round went over the connections opened once: one login per node for the whole watch
    expect({ nkh1: accepted('nkh1') - before.nkh1, nkh2: accepted('nkh2') - before.nkh2 }).toEqual({
      nkh1: 1,
      nkh2: 1,
    });
  }, 200_000);
});
