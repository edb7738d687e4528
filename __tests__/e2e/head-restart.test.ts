// A head restart on real test hosts (a cron host as head, workers nkh2 and nkh3), with Ray's GCS fault tolerance
// on a Redis test host (Debian's redis-server with a password) and without it. What an operator checks:
// every worker keeps its node id, a detached actor made before answers after with its state, the
// cluster is healthy again; the preflight names a Redis that is silent or refuses the password.
//
// Who restarts the head: its supervisor when this checkout's remote_lib has one (`supervise-run`, issue
// 21's supervisor), so no deploy runs; otherwise `nokube ray start` after the death, which must then
// keep (not restart) the workers. Each test says which it used.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nokube, REPO, type CliRun } from '../helpers/cli';
import { clusterConfig } from './cluster-config';
import {
  e2eEnabled,
  hostExec,
  rayStopAll,
  rebootHost,
  requireTestHosts,
  testHost,
  testhosts,
  type HostsInfo,
} from './hosts';

const REDIS_HOST = 'nkrha';
/** The head: a cron host, so its supervisor comes back after a reboot (an @reboot line). */
const HEAD_HOST = 'nkhha';
const REDIS_PASSWORD = 'rds-e2e-Pw-7431';
const SUPERVISED = readFileSync(join(REPO, 'remote_lib', 'nokube_remote.py'), 'utf8').includes('supervise-run');

/** Run on the head through `nokube ray exec`: the alive nodes by address, and the detached actor's answer. */
const PROBE = `
import json, sys, ray
ray.init(address="auto", namespace="nokube-e2e", logging_level="ERROR")
nodes = {n["NodeManagerAddress"]: n["NodeID"] for n in ray.nodes() if n["Alive"]}
@ray.remote(num_cpus=0, resources={"actor_slot": 0.01})
class Keeper:
    def __init__(self):
        self.calls = 0
    def call(self):
        self.calls += 1
        return ray.get_runtime_context().get_node_id(), self.calls
if sys.argv[1] == "make":
    keeper = Keeper.options(name="keeper", lifetime="detached").remote()
else:
    keeper = ray.get_actor("keeper")
node, calls = ray.get(keeper.call.remote(), timeout=90)
print("PROBE " + json.dumps({"nodes": nodes, "actor_node": node, "calls": calls}))
`;

interface Probe {
  nodes: Record<string, string>;
  actor_node: string;
  calls: number;
}

describe.skipIf(!e2eEnabled)('a head restart', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  let redisIp: string;
  let headIp: string;
  const env = { RDS_PW: REDIS_PASSWORD };
  const cli = (cmd: string, file: string, more: string[] = []): Promise<CliRun> =>
    nokube(['ray', cmd, '--config', file, ...flags, ...more], env, 900_000);

  const config = (name: string, redisLines: string[]) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      clusterConfig({
        name,
        specLines: redisLines,
        nodes: [
          { name: 'ray-head', role: 'head', ip: headIp, storage: `/opt/nokube/data/${name}/h` },
          {
            name: 'ray-worker-1',
            role: 'worker',
            ip: '10.88.0.12',
            storage: `/opt/nokube/data/${name}/w1`,
            ray: { resources: { actor_slot: 1 } },
          },
          { name: 'ray-worker-2', role: 'worker', ip: '10.88.0.13', storage: `/opt/nokube/data/${name}/w2` },
        ],
      }),
    );
    return file;
  };
  const redisLines = (address: string, password = '${RDS_PW}') => [
    'gcs_fault_tolerance:',
    `  redis_address: "${address}"`,
    `  redis_password: "${password}"`,
  ];

  async function probe(file: string, mode: 'make' | 'get'): Promise<Probe> {
    const r = await cli('exec', file, ['--', 'python', '-c', PROBE, mode]);
    const line = /PROBE (\{.*\})/.exec(r.stdout);
    expect(line, `exec ${mode}: ${r.code}\n${r.stdout}\n${r.stderr}`).not.toBeNull();
    return JSON.parse(line![1]!) as Probe;
  }

  async function waitHealthy(file: string, withinMs: number): Promise<number> {
    const t0 = Date.now();
    let last: CliRun | undefined;
    while (Date.now() - t0 < withinMs) {
      last = await cli('status', file, ['--json']);
      if (last.json?.status === 'healthy') return Date.now() - t0;
      await new Promise((r) => setTimeout(r, 2000));
    }
    throw new Error(`not healthy within ${withinMs} ms: ${last?.stdout}\n${last?.stderr}`);
  }

  const gcsPid = () => hostExec(HEAD_HOST, 'pgrep -u nokube -x gcs_server').stdout.trim();

  /**
   * The head's Ray came back (after `died`, the gcs_server pid it had, or '' after a reboot): by its
   * supervisor, with no deploy run (a new gcs_server, then healthy), or by a deploy run keeping the workers.
   */
  async function headBack(file: string, keepsWorkers: boolean, died: string): Promise<number> {
    const t0 = Date.now();
    if (SUPERVISED) {
      while (!gcsPid() || gcsPid() === died) {
        if (Date.now() - t0 > 90_000) throw new Error('no new gcs_server on the head within 90 s');
        await new Promise((r) => setTimeout(r, 500));
      }
      await waitHealthy(file, 90_000 - (Date.now() - t0));
      return Date.now() - t0;
    }
    const r = await cli('start', file, ['--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const actions = Object.fromEntries(r.json!.plan.map((p) => [p.node, p.action]));
    expect(actions['ray-head']).toBe('start');
    const workerAction = keepsWorkers ? 'keep' : 'restart';
    expect([actions['ray-worker-1'], actions['ray-worker-2']]).toEqual([workerAction, workerAction]);
    expect(r.json!.status).toBe('healthy');
    return Date.now() - t0;
  }

  beforeAll(() => {
    info = requireTestHosts();
    rayStopAll(info);
    dir = mkdtempSync(join(tmpdir(), 'nokube-head-restart-'));
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '300');
    const added = testhosts('add', REDIS_HOST, '--redis', '--redis-password', REDIS_PASSWORD);
    if (added.code !== 0) throw new Error(`testhosts.sh add ${REDIS_HOST} failed: ${added.stderr}`);
    redisIp = testHost(REDIS_HOST).ip;
    const head = testhosts('add', HEAD_HOST, '--cron');
    if (head.code !== 0) throw new Error(`testhosts.sh add ${HEAD_HOST} failed: ${head.stderr}`);
    headIp = testHost(HEAD_HOST).ip;
    console.log(
      `head restart: ${SUPERVISED ? 'the supervisor restarts the head' : 'nokube ray start restarts the head'}`,
    );
  });
  afterAll(() => {
    if (info) rayStopAll(info);
    testhosts('rm', REDIS_HOST);
    testhosts('rm', HEAD_HOST);
  });

  it('preflight names a Redis that does not answer, and a wrong password, before anything starts', async () => {
    const silent = await cli('start', config('ha-silent', redisLines(`${redisIp}:6390`)));
    expect(silent.code).not.toBe(0);
    expect(silent.stdout + silent.stderr).toContain(
      `the Redis at ${redisIp}:6390 (ray_spec.gcs_fault_tolerance.redis_address) cannot be reached from the head: connection refused`,
    );
    expect(silent.stdout + silent.stderr).toContain('preflight failed: nothing was started or stopped');

    const wrong = await nokube(
      ['ray', 'start', '--config', config('ha-wrongpw', redisLines(`${redisIp}:6379`)), ...flags],
      { RDS_PW: 'not-the-Redis-pw-99' },
      900_000,
    );
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout + wrong.stderr).toContain(`the Redis at ${redisIp}:6379`);
    expect(wrong.stdout + wrong.stderr).toContain('refused the password (WRONGPASS)');
    expect(wrong.stdout + wrong.stderr).not.toContain('not-the-Redis-pw-99');
    // nothing of either cluster was started on the head
    expect(hostExec(HEAD_HOST, 'pgrep -u nokube -x gcs_server').code).toBe(1);
  }, 300_000);

  it('with Redis: the head killed (kill -9 gcs_server), then its machine rebooted; workers, node ids and a detached actor kept', async () => {
    const file = config('ha-redis', redisLines(`${redisIp}:6379`));
    const plan = await cli('plan', file);
    expect(plan.stdout).toContain(`if the head restarts: workers and actors kept (GCS fault tolerance`);
    const up = await cli('start', file, ['--json']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(up.stdout + up.stderr).not.toContain(REDIS_PASSWORD);
    const before = await probe(file, 'make');
    expect(before.nodes['10.88.0.12']).toBe(before.actor_node);
    expect(before.calls).toBe(1);

    // the password is in no file nokube wrote but the 0600 one, and in no argv nokube wrote
    const head = '/opt/nokube/data/ha-redis/h';
    expect(hostExec(HEAD_HOST, `cat ${head}/logs/ray-start.log ${head}/state/runtime.json`).stdout).not.toContain(
      REDIS_PASSWORD,
    );
    expect(hostExec(HEAD_HOST, `stat -c '%a %U' ${head}/state/redis_password`).stdout.trim()).toBe('600 nokube');
    const startArgv = hostExec(HEAD_HOST, `pgrep -u nokube -f -a 'ray.scripts.scripts|bin/ray start' || true`);
    expect(startArgv.stdout).not.toContain(REDIS_PASSWORD);

    // 1. the head's GCS dies as the OOM killer would end it
    const died = gcsPid();
    expect(hostExec(HEAD_HOST, 'pkill -9 -u nokube -x gcs_server').code).toBe(0);
    const killMs = await headBack(file, true, died);
    const afterKill = await probe(file, 'get');
    console.log(`with Redis, head kill -> healthy: ${killMs} ms`);
    expect(afterKill.nodes['10.88.0.12']).toBe(before.nodes['10.88.0.12']);
    expect(afterKill.nodes['10.88.0.13']).toBe(before.nodes['10.88.0.13']);
    expect(afterKill.nodes[headIp]).not.toBe(before.nodes[headIp]); // a new head node
    expect(afterKill.actor_node).toBe(before.actor_node);
    expect(afterKill.calls).toBe(2); // the same actor, its state kept: not restarted

    // 2. the head's machine reboots: every process gone, /tmp emptied
    rebootHost(HEAD_HOST);
    const rebootMs = await headBack(file, true, '');
    console.log(`with Redis, head reboot -> healthy: ${rebootMs} ms`);
    const afterReboot = await probe(file, 'get');
    expect(afterReboot.nodes['10.88.0.12']).toBe(before.nodes['10.88.0.12']);
    expect(afterReboot.nodes['10.88.0.13']).toBe(before.nodes['10.88.0.13']);
    expect(afterReboot.actor_node).toBe(before.actor_node);
    expect(afterReboot.calls).toBe(3);
    await waitHealthy(file, 60_000);

    const stop = await cli('stop', file);
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
  }, 1_800_000);

  it("stop deletes the cluster's GCS state from Redis (its namespace only): the next start begins afresh", async () => {
    const file = config('ha-clear', redisLines(`${redisIp}:6379`));
    const redis = (args: string) =>
      hostExec(REDIS_HOST, `REDISCLI_AUTH='${REDIS_PASSWORD}' redis-cli -h 127.0.0.1 -p 6379 ${args}`);
    const keys = () => redis(`--scan --pattern 'RAYha-clear@*'`).stdout.split('\n').filter(Boolean);
    // another cluster's state in the same Redis (a namespace that starts like this one's, too)
    expect(redis(`SET 'RAYha-clear2@KV' kept`).stdout.trim()).toBe('OK');
    const up = await cli('start', file);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const before = await probe(file, 'make'); // a detached actor, kept in Redis by the GCS
    expect(before.calls).toBe(1);
    expect(keys().length).toBeGreaterThan(0);

    const stop = await cli('stop', file);
    const said = stop.stdout + stop.stderr;
    expect(stop.code, said).toBe(0);
    expect(said).toMatch(
      new RegExp(`cleared the cluster's GCS state in Redis ${redisIp}:6379 \\(namespace ha-clear, [1-9]\\d* keys\\)`),
    );
    expect(said).not.toContain(REDIS_PASSWORD);
    expect(keys()).toEqual([]);
    expect(redis(`GET 'RAYha-clear2@KV'`).stdout.trim()).toBe('kept');
    // the password file went with the state
    expect(hostExec(HEAD_HOST, 'test -e /opt/nokube/data/ha-clear/h/state/redis_password').code).toBe(1);

    // a new start of the same cluster: a GCS of its own, the stopped cluster's actor name free again
    const again = await cli('start', file);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const fresh = await probe(file, 'make');
    expect(fresh.calls).toBe(1);
    const last = await cli('stop', file);
    expect(last.code, last.stdout + last.stderr).toBe(0);
    expect(keys()).toEqual([]);
    redis(`DEL 'RAYha-clear2@KV'`);
  }, 900_000);

  it('without Redis: a head restart brings every worker back into the new head, healthy within 90 s', async () => {
    const file = config('ha-plain', []);
    const plan = await cli('plan', file);
    expect(plan.stdout).toContain('if the head restarts: every worker restarts, running work is lost');
    const up = await cli('start', file);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const before = await probe(file, 'make');
    const died = gcsPid();
    expect(hostExec(HEAD_HOST, 'pkill -9 -u nokube -x gcs_server').code).toBe(0);
    const ms = await headBack(file, false, died);
    console.log(`without Redis, head kill -> healthy: ${ms} ms`);
    expect(ms).toBeLessThan(90_000);
    const after = await probe(file, 'make');
    // every worker is a new node of the new cluster; the old actor is gone (a new one was made)
    expect(after.nodes['10.88.0.12']).not.toBe(before.nodes['10.88.0.12']);
    expect(after.nodes['10.88.0.13']).not.toBe(before.nodes['10.88.0.13']);
    expect(after.calls).toBe(1);
    const stop = await cli('stop', file);
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
  }, 900_000);
});
