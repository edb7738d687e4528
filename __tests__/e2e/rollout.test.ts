// Changing a running cluster safely, on real test hosts through the bundled CLI: workers restart one
// batch at a time (checked by polling the head's own node table from outside the CLI during the run),
// a worker running a long task is drained (the task finishes before the node restarts), and `stop`
// drains every worker before it stops it.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nokube, type CliRun } from '../helpers/cli';
import { e2eEnabled, hostExec, rayStopAll, requireTestHosts, TESTHOSTS_SH, type HostsInfo } from './hosts';

const TOKEN_PATH = '/opt/nokube/data/ray/head/state/auth_token';

function config(workerCpus: number[], rollout: string): string {
  const workers = workerCpus
    .map(
      (cpus, i) => `
  - ssh_url: "10.88.0.${12 + i}:22"
    name: ray-worker-${i + 1}
    role: worker
    ray_config:
      num_cpus: ${cpus}
      object_store_memory: 100000000
      resources: {slot-${i + 1}: 1}
    storage: {type: local, path: /opt/nokube/data/ray/worker-${i + 1}}`,
    )
    .join('');
  return `ray_spec:
  cluster_name: e2e-rollout
  rollout:
${rollout}
nodes:
  - ssh_url: "10.88.0.11:22"
    name: ray-head
    role: head
    ray_config: {port: 10001, num_cpus: 1, object_store_memory: 100000000}
    storage: {type: local, path: /opt/nokube/data/ray/head}
${workers}
`;
}

interface SeenNode {
  name?: string;
  alive: boolean;
  cpus: number;
}

/** The head's own node table (Ray's state API on the dashboard, read from outside the CLI). */
async function headNodes(token: string): Promise<SeenNode[]> {
  const res = await fetch('http://10.88.0.11:8265/api/v0/nodes?detail=true&limit=1000', {
    headers: { Authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as {
    data: {
      result: { result: { state: string; labels?: Record<string, string>; resources_total?: { CPU?: number } }[] };
    };
  };
  return body.data.result.result.map((n) => ({
    name: n.labels?.['nokube.io/node'],
    alive: n.state === 'ALIVE',
    cpus: n.resources_total?.CPU ?? 0,
  }));
}

/** Runs `start` while polling the head: the most workers missing from its view at any one time. */
async function startWatched(
  cli: () => Promise<CliRun>,
  token: string,
  workers: string[],
): Promise<{ run: CliRun; maxMissing: number; polls: number }> {
  let done = false;
  let maxMissing = 0;
  let polls = 0;
  const watcher = (async () => {
    while (!done) {
      try {
        const nodes = await headNodes(token);
        const alive = new Set(nodes.filter((n) => n.alive).map((n) => n.name));
        maxMissing = Math.max(maxMissing, workers.filter((w) => !alive.has(w)).length);
        polls += 1;
      } catch {
        // the dashboard is busy for a moment: the next poll counts
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const run = await cli();
  done = true;
  await watcher;
  return { run, maxMissing, polls };
}

/** A Ray task on one worker (by its custom resource) that sleeps `sec` seconds, run from the head. */
function longTask(slot: string, sec: number): Promise<{ out: string; code: number }> {
  const py = `
import os, time
os.environ['RAY_AUTH_MODE'] = 'token'
os.environ['RAY_AUTH_TOKEN_PATH'] = '${TOKEN_PATH}'
import ray
ray.init(address='10.88.0.11:6379', logging_level='ERROR')
@ray.remote(resources={'${slot}': 1}, max_retries=0)
def work():
    print('TASK_RUNNING', flush=True)
    time.sleep(${sec})
    return 'finished'
ref = work.remote()
print('TASK_SUBMITTED', flush=True)
print('TASK_RESULT', ray.get(ref), flush=True)
`;
  return new Promise((resolve) => {
    const child = spawn(TESTHOSTS_SH, ['exec', 'nkh1', '--user', 'nokube', '--', 'python3', '-c', py]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ out, code: code ?? -1 }));
  });
}

describe.skipIf(!e2eEnabled)('rolling changes with drain on real test hosts', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  let token = '';
  const workers = ['ray-worker-1', 'ray-worker-2', 'ray-worker-3'];
  const cfg = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const cli = (cmd: string, file: string, more: string[] = []): Promise<CliRun> =>
    nokube(['ray', cmd, '--config', file, ...flags, ...more]);

  beforeAll(async () => {
    info = requireTestHosts();
    rayStopAll(info);
    dir = mkdtempSync(join(tmpdir(), 'nokube-rollout-'));
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '150');
    const r = await cli('start', cfg('base.yaml', config([1, 1, 1], '    max_unavailable: 1')));
    expect(r.code, r.stderr + r.stdout).toBe(0);
    token = hostExec('nkh1', `cat ${TOKEN_PATH}`).stdout.trim();
    expect(token).not.toBe('');
  });
  afterAll(() => {
    if (info) rayStopAll(info);
  });

  it('plan says the change rolls; start restarts 3 workers one at a time, never two missing at once', async () => {
    const file = cfg('cpus2.yaml', config([2, 2, 2], '    max_unavailable: 1\n    drain_timeout: 30'));
    const plan = await cli('plan', file);
    expect(plan.stdout).toMatch(/ray-worker-1\s+restart\s+restart \(rolling\)/);
    expect(plan.stdout).toContain('3 workers restart rolling, 1 at a time, each drained first');

    const { run, maxMissing, polls } = await startWatched(() => cli('start', file), token, workers);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(polls).toBeGreaterThan(10);
    expect(maxMissing).toBe(1);
    for (const w of workers) {
      expect(run.stderr + run.stdout).toMatch(new RegExp(`${w}\\s+draining`));
      expect(run.stderr + run.stdout).toMatch(new RegExp(`${w}\\s+drained after`));
      expect(run.stderr + run.stdout).toMatch(new RegExp(`${w}\\s+restarted`));
    }
    // batches in config order: worker-2 is drained only after worker-1 is alive again
    const out = run.stderr + run.stdout;
    expect(out.search(/ray-worker-2\s+draining/)).toBeGreaterThan(
      out.search(/ray-worker-1\s+alive again in the head's view/),
    );
    const nodes = await headNodes(token);
    for (const w of workers) expect(nodes.find((n) => n.name === w && n.alive)?.cpus).toBe(2);
    // the head was kept: no new head in its own table
    expect(nodes.filter((n) => n.name === 'ray-head').length).toBe(1);
  });

  it('a worker running a long task is drained: the task finishes, then the node restarts', async () => {
    const task = longTask('slot-1', 25);
    // wait until the task runs on worker-1
    const t0 = Date.now();
    for (;;) {
      // anchored: the shell running pgrep has the pattern in its own command line
      const r = hostExec('nkh2', "pgrep -f '^ray::work' || true");
      if (r.stdout.trim()) break;
      if (Date.now() - t0 > 90_000) throw new Error('the long task never started on ray-worker-1');
      await new Promise((r2) => setTimeout(r2, 500));
    }
    const file = cfg('w1cpus3.yaml', config([3, 2, 2], '    drain_timeout: 120'));
    const run = await cli('start', file);
    const result = await task;
    expect(result.out).toContain('TASK_RESULT finished');
    expect(result.code).toBe(0);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const out = run.stderr + run.stdout;
    const drained = /ray-worker-1\s+drained after (\d+\.\d) s/.exec(out);
    expect(drained, out).not.toBeNull();
    // the drain waited for the task (25 s, most of it still to run when start began)
    expect(Number(drained![1])).toBeGreaterThan(5);
    expect(out.search(/ray-worker-1\s+restarted/)).toBeGreaterThan(drained!.index);
    // the other workers were not touched
    expect(out).not.toMatch(/ray-worker-2\s+draining/);
  });

  it('stop drains every worker before stopping it', async () => {
    const r = await cli('stop', cfg('w1cpus3.yaml', config([3, 2, 2], '    drain_timeout: 120')));
    expect(r.code, r.stderr + r.stdout).toBe(0);
    for (const w of workers) expect(r.stderr + r.stdout).toMatch(new RegExp(`${w}\\s+drained after`));
    for (const host of ['nkh2', 'nkh3', 'nkh4'])
      expect(hostExec(host, 'pgrep -x raylet || true').stdout.trim()).toBe('');
  });
});
