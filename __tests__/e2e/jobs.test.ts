// Using a running cluster from the bundled CLI, on real sshd + real Ray test hosts: `job` (through the
// head over SSH), `exec` on every node, and `env` driving Ray's own `ray job submit`. Checks are what a
// user sees: the job's output (hostnames of every node), exit codes, Ray's own job list.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO, ensureDist, nokube, type CliRun } from '../helpers/cli';
import { clusterConfig } from './cluster-config';
import { e2eEnabled, hostExec, rayStopAll, requireTestHosts, type HostsInfo } from './hosts';

const CONFIG = clusterConfig({
  name: 'e2e-jobs',
  spec: { dashboard_port: 8265, max_workers: 10 },
  nodes: [
    {
      ip: '10.88.0.11',
      name: 'ray-head',
      role: 'head',
      ray: { dashboard_port: 8265 },
      storage: '/opt/nokube/data/ray/head',
    },
    { ip: '10.88.0.12', name: 'ray-worker-1', role: 'worker', storage: '/opt/nokube/data/ray/w1' },
    { ip: '10.88.0.13', name: 'ray-worker-2', role: 'worker', storage: '/opt/nokube/data/ray/w2' },
  ],
});

// One task pinned to each alive node; each reads a file of the working dir on its own node.
const HOSTNAMES_PY = `import socket, sys
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
print("driver python:", sys.executable, flush=True)
ray.init()
@ray.remote(num_cpus=0)
def where():
    return socket.gethostname() + ":" + open("marker.txt").read().strip()
nodes = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
seen = ray.get([where.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n, soft=False)).remote() for n in nodes])
print("hosts=" + ",".join(sorted(seen)))
`;

describe.skipIf(!e2eEnabled)('job, exec and env on a running cluster', () => {
  let info: HostsInfo;
  let dir: string;
  let file: string;
  let flags: string[];
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
    nokube(['ray', args[0], '--config', file, ...flags, ...args.slice(1)], env);

  beforeAll(async () => {
    info = requireTestHosts();
    rayStopAll(info);
    dir = mkdtempSync(join(tmpdir(), 'nokube-jobs-'));
    file = join(dir, 'ray-config.yaml');
    writeFileSync(file, CONFIG);
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    const r = await nokube(['ray', 'start', '--config', file, ...flags, '--timeout', '180']);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => {
    if (info) rayStopAll(info);
  });

  it('job submit uploads the working dir; its tasks report every node; exit 0', async () => {
    const wd = join(dir, 'smoke');
    mkdirSync(wd);
    writeFileSync(join(wd, 'hostnames.py'), HOSTNAMES_PY);
    writeFileSync(join(wd, 'marker.txt'), 'from-working-dir\n');
    const r = await cli(['job', 'submit', '--working-dir', wd, '--', 'python', 'hostnames.py']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    // `python` is the interpreter that runs Ray on the head
    expect(r.stdout).toContain('driver python: /opt/nokube-venv/bin/python');
    expect(r.stdout).toContain('hosts=nkh1:from-working-dir,nkh2:from-working-dir,nkh3:from-working-dir');
    expect(r.stderr).toMatch(/job raysubmit_\w+: SUCCEEDED/);
  });

  it('a failing job exits 1 and shows its output and Ray’s message', async () => {
    const r = await cli(['job', 'submit', '--', 'python', '-c', "import sys; print('boom here'); sys.exit(3)"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('boom here');
    expect(r.stderr).toMatch(/FAILED \(Job entrypoint command failed with exit code 3\)/);
    const json = await cli(['job', 'submit', '--json', '--', 'sh', '-c', 'echo to-the-log; exit 4']);
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(Object.keys(doc).sort()).toEqual(['end_time', 'job_id', 'message', 'start_time', 'status']);
    expect(doc.status).toBe('FAILED');
  });

  it('job list, status, logs and stop; Ctrl-C stops following and says how to stop the job', async () => {
    ensureDist();
    const child = spawn(
      'node',
      [CLI, 'ray', 'job', 'submit', '--config', file, ...flags, '--', 'sh', '-c', 'echo started-long; sleep 300'],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setInterval(() => {
        if (stdout.includes('started-long')) {
          clearInterval(timer);
          child.kill('SIGINT');
        }
      }, 100);
      child.on('close', (c) => {
        clearInterval(timer);
        resolve(c);
      });
    });
    expect(code, stderr).toBe(130);
    const jobId = /job (raysubmit_\w+) submitted/.exec(stderr)![1];
    expect(stderr).toContain(`stop it:   nokube ray job stop --config ${file} ${jobId}`);

    const status = await cli(['job', 'status', jobId, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).status).toBe('RUNNING');
    const logs = await cli(['job', 'logs', jobId]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('started-long');
    const list = await cli(['job', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const jobs = JSON.parse(list.stdout) as { job_id: string; status: string }[];
    expect(jobs.find((j) => j.job_id === jobId)?.status).toBe('RUNNING');
    expect(jobs.some((j) => j.status === 'SUCCEEDED')).toBe(true);

    const stop = await cli(['job', 'stop', jobId, '--json']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(JSON.parse(stop.stdout).status).toBe('STOPPED');
    // Ray's own view, from inside the head
    const table = hostExec(
      'nkh1',
      `RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH=/opt/nokube/data/ray/head/state/auth_token ray job status --address http://127.0.0.1:8265 ${jobId}`,
      { user: 'nokube' },
    );
    // Ray's CLI words it "Job 'raysubmit_…' was stopped"
    expect(table.stdout + table.stderr).toMatch(new RegExp(`Job '${jobId}' was stopped`));
    const after = await cli(['job', 'status', jobId]);
    expect(after.code).toBe(1);

    const noWait = await cli(['job', 'submit', '--no-wait', '--json', '--', 'true']);
    expect(noWait.code, noWait.stderr).toBe(0);
    expect(JSON.parse(noWait.stdout).job_id).toMatch(/^raysubmit_/);
  });

  it('exec runs on every node in its Ray environment, words kept whole; exit status is the worst', async () => {
    const r = await cli([
      'exec',
      '--all',
      '--',
      'sh',
      '-c',
      'echo "$(hostname) $RAY_ADDRESS $(command -v python) [$1]"; ray status >/dev/null && echo ray-ok',
      'sh',
      'two words; $HOME',
    ]);
    expect(r.code, r.stderr).toBe(0);
    for (const [node, host] of [
      ['ray-head', 'nkh1'],
      ['ray-worker-1', 'nkh2'],
      ['ray-worker-2', 'nkh3'],
    ]) {
      expect(r.stdout).toContain(`${node} | ${host} 10.88.0.11:6379 /opt/nokube-venv/bin/python [two words; $HOME]`);
      expect(r.stdout).toContain(`${node} | ray-ok`);
    }
    const worst = await cli([
      'exec',
      '--workers',
      '--json',
      '--',
      'sh',
      '-c',
      'hostname; [ "$(hostname)" = nkh3 ] && exit 3; exit 0',
    ]);
    expect(worst.code).toBe(3);
    const runs = JSON.parse(worst.stdout) as { node: string; exit_code: number; stdout: string }[];
    expect(runs.map((x) => [x.node, x.exit_code, x.stdout.trim()])).toEqual([
      ['ray-worker-1', 0, 'nkh2'],
      ['ray-worker-2', 3, 'nkh3'],
    ]);
  });

  it('env: Ray’s own `ray job submit` works from its exports (token from a local 0600 file)', async () => {
    ensureDist();
    const home = mkdtempSync(join(tmpdir(), 'nokube-home-'));
    const args = ['ray', 'env', '--config', file, ...flags].map((a) => `'${a}'`).join(' ');
    const script = `set -e; eval "$(node ${CLI} ${args})"; stat -c %a "$RAY_AUTH_TOKEN_PATH";
      /opt/nokube-venv/bin/ray job submit -- python -c "print('via ray cli', 6 * 7)"`;
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn('bash', ['-c', script], {
        env: { ...process.env, HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (out += d));
      c.on('close', (code) => resolve({ code, out }));
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('600');
    expect(r.out).toContain('via ray cli 42');
    const json = await cli(['env', '--format', 'json'], { HOME: home });
    expect(JSON.parse(json.stdout)).toMatchObject({
      RAY_ADDRESS: 'http://10.88.0.11:8265',
      RAY_CLIENT_ADDRESS: 'ray://10.88.0.11:10001',
      RAY_AUTH_MODE: 'token',
    });
    expect(json.stdout).not.toMatch(/RAY_AUTH_TOKEN"/);
  });

  it('bad input: unknown node, unknown job id, missing working dir, bad runtime env; a stopped cluster', async () => {
    const node = await cli(['exec', '--node', 'ray-wroker-1', '--', 'true']);
    expect(node.code).toBe(2);
    expect(node.stderr).toContain('no node named "ray-wroker-1"');
    expect(node.stderr).toContain('the nodes are: ray-head, ray-worker-1, ray-worker-2');
    const job = await cli(['job', 'status', 'raysubmit_doesnotexist']);
    expect(job.code).toBe(2);
    expect(job.stderr).toContain('no job raysubmit_doesnotexist on this cluster');
    const wd = await cli(['job', 'submit', '--working-dir', join(dir, 'nope'), '--', 'true']);
    expect(wd.code).toBe(2);
    expect(wd.stderr).toContain(`working directory ${join(dir, 'nope')} does not exist`);
    const env = await cli(['job', 'submit', '--runtime-env-json', '{pip: 1', '--', 'true']);
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('the runtime env is not valid JSON');
    for (const r of [node, job, wd, env]) expect(r.stderr).not.toMatch(/\n\s+at /);

    const stop = await nokube(['ray', 'stop', '--config', file, ...flags]);
    expect(stop.code, stop.stderr).toBe(0);
    const list = await cli(['job', 'list']);
    expect(list.code).toBe(1);
    expect(list.stderr).toContain('Ray of cluster e2e-jobs is not running on the head');
    expect(list.stderr).toContain(`nokube ray start --config ${file}`);
    const envDown = await cli(['env']);
    expect(envDown.code).toBe(1);
    expect(envDown.stderr).toContain('is not running on the head');
  });
});
