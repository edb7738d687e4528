// Changing a running cluster safely, on real test hosts through the bundled CLI: workers restart one
// batch at a time (checked by polling the head's own node table from outside the CLI during the run),
// a worker running a long task is drained (the task finishes before the node restarts), and `stop`
// drains every worker before it stops it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runAction, visibleLog, type ActionRun } from '../action/runner';
import { nokube, type CliRun } from '../helpers/cli';
import { e2eEnabled, hostExec, rayStopAll, requireTestHosts, TESTHOSTS_SH, type HostsInfo } from './hosts';

const TOKEN_PATH = '/opt/nokube/data/ray/head/state/auth_token';

/** `objectStore`: the workers' object_store_memory (100 GB is more than a test host has: Ray refuses it). */
function config(workerCpus: number[], rollout: string, objectStore = 100_000_000): string {
  const workers = workerCpus
    .map(
      (cpus, i) => `
  - ssh_url: "10.88.0.${12 + i}:22"
    name: ray-worker-${i + 1}
    role: worker
    ray_config:
      num_cpus: ${cpus}
      object_store_memory: ${objectStore}
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

/** Waits until a task of longTask runs on `host` (a Ray worker process named ray::work). */
async function taskRunningOn(host: string): Promise<void> {
  const t0 = Date.now();
  // anchored: the shell running pgrep has the pattern in its own command line
  while (!hostExec(host, "pgrep -f '^ray::work' || true").stdout.trim()) {
    if (Date.now() - t0 > 90_000) throw new Error(`the long task never started on ${host}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The raylet's pid on a host ('' when none runs). */
const raylet = (host: string) => hostExec(host, 'pgrep -x raylet || true').stdout.trim();

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
    await taskRunningOn('nkh2');
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

  it('a task longer than drain_timeout: the deadline is reached with 1 task still running, then the node restarts', async () => {
    const task = longTask('slot-2', 120);
    await taskRunningOn('nkh3');
    const run = await cli('start', cfg('w2cpus3.yaml', config([3, 3, 2], '    drain_timeout: 3')));
    const out = run.stderr + run.stdout;
    expect(run.code, out).toBe(0);
    const deadline = /ray-worker-2\s+drain deadline reached \(3 s\) with 1 task still running: stopping it/.exec(out);
    expect(deadline, out).not.toBeNull();
    expect(out.search(/ray-worker-2\s+draining/)).toBeLessThan(deadline!.index);
    expect(out.search(/ray-worker-2\s+restarted/)).toBeGreaterThan(deadline!.index);
    // the operator is told that work was lost, and how to wait longer
    expect(out).toMatch(/ray-worker-2: drain deadline reached .* \(raise ray_spec\.rollout\.drain_timeout/);
    const result = await task;
    expect(result.out).not.toContain('TASK_RESULT finished');
    expect(result.code).not.toBe(0);
  });

  it('a failed batch stops the rollout: the result names the failed worker and the two left untouched', async () => {
    const before = { nkh3: raylet('nkh3'), nkh4: raylet('nkh4') };
    expect(before.nkh3).not.toBe('');
    // one zero too many in object_store_memory: Ray refuses to start a node with more than it has
    const file = cfg(
      'osm-100g.yaml',
      config([3, 3, 2], '    max_unavailable: 1\n    max_failures: 0', 100_000_000_000),
    );
    const run = await cli('start', file);
    const out = run.stderr + run.stdout;
    expect(run.code, out).toBe(1);
    expect(out).toMatch(/ray-worker-1\s+restarting/);
    expect(out).toMatch(/ray-worker-1\s+failed: /);
    expect(out).toContain(
      'the rollout stopped after 1 failed worker (ray_spec.rollout.max_failures is 0): ray-worker-2, ray-worker-3 left as they were',
    );
    expect(out).toContain('rollout done: none; failed: ray-worker-1; untouched: ray-worker-2, ray-worker-3');
    // the workers after the failed batch were neither drained nor restarted
    expect(out).not.toMatch(/ray-worker-[23]\s+(draining|restarting)/);
    expect({ nkh3: raylet('nkh3'), nkh4: raylet('nkh4') }).toEqual(before);
    const nodes = await headNodes(token);
    expect(nodes.find((n) => n.name === 'ray-worker-2' && n.alive)?.cpus).toBe(3);

    // start again with a good config: the failed worker comes back, the others are kept
    const again = await cli('start', cfg('w2cpus3.yaml', config([3, 3, 2], '    drain_timeout: 3')));
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expect(again.stderr + again.stdout).toMatch(/ray-worker-1\s+started/);
    expect(raylet('nkh3')).toBe(before.nkh3);
  });

  it("the Action's no-drain input: start restarts a worker at once (its task is lost), stop stops without draining", async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'nokube-rollout-ws-'));
    writeFileSync(join(workspace, 'ray-config.yaml'), config([3, 3, 3], '    drain_timeout: 120'));
    const action = (command: string): Promise<ActionRun> =>
      runAction({
        inputs: {
          command,
          config: 'ray-config.yaml',
          'ssh-private-key': readFileSync(info.client.keys.ed25519, 'utf8'),
          'known-hosts': readFileSync(info.client.known_hosts, 'utf8'),
          'ssh-user': 'nokube',
          timeout: '150',
          'no-drain': 'true',
        },
        workspace,
        entry: join(REPO, 'dist', 'index.js'),
        timeoutMs: 280_000,
      });
    // a task that a drain (up to 120 s) would let finish
    const task = longTask('slot-3', 40);
    await taskRunningOn('nkh4');
    const start = await action('start');
    const startLog = visibleLog(start.stdout);
    expect(start.code, startLog).toBe(0);
    expect(startLog).toMatch(/ray-worker-3: restarted/);
    expect(startLog).not.toMatch(/draining/);
    expect(start.outputs.status).toBe('healthy');
    const lost = await task;
    expect(lost.out).not.toContain('TASK_RESULT finished');

    const again = longTask('slot-3', 100);
    await taskRunningOn('nkh4');
    const t0 = Date.now();
    const stop = await action('stop');
    const stopLog = visibleLog(stop.stdout);
    expect(stop.code, stopLog).toBe(0);
    expect(stop.outputs.status).toBe('stopped');
    expect(stopLog).not.toMatch(/draining/);
    // a drain would have waited for the task (100 s)
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect((await again).out).not.toContain('TASK_RESULT finished');
    for (const host of ['nkh2', 'nkh3', 'nkh4']) expect(raylet(host)).toBe('');
  });

  it('stop drains every worker before stopping it', async () => {
    const file = cfg('w1cpus3.yaml', config([3, 2, 2], '    drain_timeout: 120'));
    const up = await cli('start', file);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    const r = await cli('stop', file);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    for (const w of workers) expect(r.stderr + r.stdout).toMatch(new RegExp(`${w}\\s+drained after`));
    for (const host of ['nkh2', 'nkh3', 'nkh4']) expect(raylet(host)).toBe('');
  });
});
