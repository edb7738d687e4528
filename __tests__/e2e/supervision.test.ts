// Self-healing (issue 21) on real sshd + real Ray test hosts: every node supervised by `start`; a
// killed raylet or gcs_server and a rebooted machine come back with no deploy run; a crash loop is
// bounded; `stop` leaves silence; two clusters on the same machines never touch each other; a
// rolling restart goes through the supervisor. Checked from outside: processes inside the hosts and
// what `status --json` reports. The cluster is brought up once for the file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDist, nokube, type CliRun } from '../helpers/cli';
import { clusterConfig, type TestNode } from './cluster-config';
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

const CRON_HOST = 'nksup';

interface NodeOut {
  name: string;
  state: string;
  restarts: number | null;
  last_restart: { at: string; process: string; why: string; signal?: string; exit_code?: number } | null;
  supervision: { launcher: string; state: string } | null;
}
interface Out {
  status: string;
  changes: number;
  restarts: number;
  nodes: NodeOut[];
  warnings?: string[];
  plan?: { node: string; action: string; reason: string }[];
}

function json(run: CliRun): Out {
  try {
    return JSON.parse(run.stdout) as Out;
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

/** PIDs whose command line has `pattern` (its first character bracketed: the shell running pgrep is not one). */
function pids(host: string, pattern: string): number[] {
  const re = `[${pattern[0]}]${pattern.slice(1)}`;
  return hostExec(host, `pgrep -f -- '${re}' || true`).stdout.split('\n').filter(Boolean).map(Number);
}

/** PIDs of the raylets on a host (by process name: Ray's workers and agents name the raylet's socket in their arguments). */
function raylets(host: string): number[] {
  return hostExec(host, 'pgrep -x raylet || true').stdout.split('\n').filter(Boolean).map(Number);
}

/** Run on the head by `nokube ray exec`: an actor on the worker prints ~650 KB (its .out rotates), then
 * five one-shot tasks there, each in a worker process of its own that exits (exited workers' logs). */
const LOG_GROWTH = `
import ray
ray.init(address="auto", logging_level="ERROR", log_to_driver=False)
@ray.remote(num_cpus=0, resources={"logspot": 0.01})
class Printer:
    def spam(self):
        for i in range(8000):
            print("line %05d " % i + "x" * 70, flush=True)
        return i
@ray.remote(num_cpus=0, resources={"logspot": 0.01}, max_calls=1)
def once(i):
    print("one-shot task %d" % i)
    return i
p = Printer.remote()
print("printed", ray.get(p.spam.remote()))
print("tasks", sum(ray.get([once.remote(i) for i in range(5)])))
ray.kill(p)
`;

/** On a host: Ray's log files of a session by family (a file and its rotated copies), and exited workers' sets. */
const LOG_FILES = `
import json, os, re, sys
logs = sys.argv[1]
held = {}
for pid in (p for p in os.listdir("/proc") if p.isdigit()):
    try:
        comm = open("/proc/%s/comm" % pid).read().strip()
        for fd in os.listdir("/proc/%s/fd" % pid):
            held[os.readlink("/proc/%s/fd/%s" % (pid, fd))] = comm
    except OSError:
        pass
fam = {}
dead = {}
for d in (logs, os.path.join(logs, "old")):
    for n in (os.listdir(d) if os.path.isdir(d) else []):
        path = os.path.join(d, n)
        if not os.path.isfile(path):
            continue
        base = re.sub(r"\\.\\d+(?=\\.log$)|\\.\\d+$", "", n)
        fam.setdefault(base, []).append([n, os.path.getsize(path)])
        m = re.match(r"^(?:io_)?worker-([0-9a-f]+)(?:-[0-9a-f]+)?-(\\d+)\\.(?:out|err)", n) or \\
            re.match(r"^python-core-worker-([0-9a-f]+)_(\\d+)", n)
        if m and not os.path.exists("/proc/%s" % m.group(2)):
            dead.setdefault(m.group(1), []).append([n, held.get(os.path.realpath(path))])
print(json.dumps({"families": fam, "dead_workers": len(dead),
                  "dead_unheld": len([w for w, files in dead.items() if any(h is None for _, h in files)]),
                  "holders": sorted(set(h for files in dead.values() for _, h in files if h))}))
`;

interface LogFiles {
  families: Record<string, [string, number][]>;
  /** Exited workers with log files left. */
  dead_workers: number;
  /** Of those, the ones with a file no process holds open. */
  dead_unheld: number;
  /** Who holds open what is left of exited workers' logs (Ray's log monitor reads them). */
  holders: string[];
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

describe.skipIf(!e2eEnabled)('supervision: nodes heal themselves', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  let file: string;
  let file2: string;
  let nodes: TestNode[];
  const cli = (cmd: string, f: string, more: string[] = []): Promise<CliRun> =>
    nokube(['ray', cmd, '--config', f, ...flags, '--json', ...more]);
  const status = async (f = file) => json(await cli('status', f));
  const node = (o: Out, name: string) => o.nodes.find((n) => n.name === name)!;

  /** Polls status until `ok` holds; the ms from `t0` to the start of the status run that saw it. */
  async function until(ok: (o: Out) => boolean, t0: number, ms: number): Promise<{ out: Out; ms: number }> {
    let last: Out | undefined;
    for (;;) {
      const began = Date.now();
      last = await status();
      if (ok(last)) return { out: last, ms: began - t0 };
      if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms; last status:\n${JSON.stringify(last, null, 1)}`);
      await sleep(500);
    }
  }
  const healthy = (o: Out) => o.status === 'healthy' && o.nodes.every((n) => n.state === 'running');

  beforeAll(async () => {
    ensureDist(); // a rebuild takes minutes on a busy machine: not inside the first test's time
    info = requireTestHosts();
    rayStopAll(info);
    testhosts('rm', CRON_HOST);
    const r = testhosts('add', CRON_HOST, '--cron');
    if (r.code !== 0) throw new Error(`testhosts.sh add ${CRON_HOST} --cron failed: ${r.stderr}`);
    info = requireTestHosts();
    dir = mkdtempSync(join(tmpdir(), 'nokube-sup-'));
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '120');
    nodes = [
      { ip: testHost('nkh1', info).ip, name: 'head', role: 'head', storage: '/opt/nokube/data/sup/head' },
      { ip: testHost('nkh2', info).ip, name: 'w1', role: 'worker', storage: '/opt/nokube/data/sup/w1' },
      { ip: testHost(CRON_HOST, info).ip, name: 'wc', role: 'worker', storage: '/opt/nokube/data/sup/wc' },
    ];
    file = join(dir, 'sup.yaml');
    writeFileSync(file, clusterConfig({ name: 'sup', spec: { keep_sessions: 2 }, nodes }));
    // a second cluster on the same machines: other ports, other storage
    file2 = join(dir, 'sup2.yaml');
    writeFileSync(
      file2,
      clusterConfig({
        name: 'sup2',
        spec: { dashboard_port: 8365 },
        nodes: [
          { ...nodes[0], storage: '/opt/nokube/data/sup2/head', ray: { port: 10101, gcs_port: 6479 } },
          { ...nodes[1], storage: '/opt/nokube/data/sup2/w1' },
        ],
      }),
    );
  }, 900_000);
  afterAll(async () => {
    if (file) await cli('stop', file);
    if (file2) await cli('stop', file2);
    if (info) rayStopAll(info);
    testhosts('rm', CRON_HOST);
  }, 300_000);

  it('plan names each launcher and warns about a node that will not come back after a reboot', async () => {
    const plan = await cli('plan', file);
    const out = json(plan);
    const warnings = (out.warnings ?? []).join('\n');
    expect(warnings).toMatch(/head has neither systemd nor cron: .*will not come back after a reboot/);
    expect(warnings).not.toMatch(/wc has neither/);
  }, 120_000);

  it('start installs supervision: a supervisor per node, the @reboot line on the cron host', async () => {
    const run = await cli('start', file);
    expect(run.code, run.stderr).toBe(0);
    const out = await status();
    expect(out.status).toBe('healthy');
    expect(node(out, 'head').supervision).toEqual({ launcher: 'detached', state: 'running' });
    expect(node(out, 'wc').supervision).toEqual({ launcher: 'cron', state: 'running' });
    expect(out.nodes.map((n) => n.restarts)).toEqual([0, 0, 0]);
    expect(out.restarts).toBe(0);
    expect(hostExec(CRON_HOST, 'crontab -u nokube -l').stdout).toMatch(/@reboot .*'supervise-start' 'sup' /);
    for (const h of ['nkh1', 'nkh2', CRON_HOST]) expect(pids(h, 'supervise-run sup ')).toHaveLength(1);
  }, 300_000);

  it('a no-op start on the supervised healthy cluster restarts nothing', async () => {
    const before = [...raylets('nkh2'), ...pids('nkh2', 'supervise-run sup ')];
    const run = await cli('start', file);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run).changes).toBe(0);
    expect([...raylets('nkh2'), ...pids('nkh2', 'supervise-run sup ')]).toEqual(before);
  }, 300_000);

  it("kill -9 of a worker's raylet: alive again within 15 s, no deploy run; status shows the restart", async () => {
    const [raylet] = raylets('nkh2');
    expect(raylet).toBeGreaterThan(0);
    const t0 = Date.now();
    hostExec('nkh2', `kill -9 ${raylet}`);
    const seen = await until((o) => healthy(o) && node(o, 'w1').restarts === 1, t0, 30_000);
    expect(seen.ms).toBeLessThan(15_000);
    const w1 = node(seen.out, 'w1');
    expect(w1.last_restart).toMatchObject({ process: 'raylet', signal: 'SIGKILL', why: 'killed by SIGKILL' });
    expect(seen.out.restarts).toBe(1);
    expect(raylets('nkh2')).toHaveLength(1);
  }, 120_000);

  it('a reboot of the cron worker: alive again within 60 s, no deploy run', async () => {
    const t0 = Date.now();
    rebootHost(CRON_HOST);
    const seen = await until((o) => healthy(o) && (node(o, 'wc').restarts ?? 0) >= 1, t0, 120_000);
    expect(seen.ms).toBeLessThan(60_000);
    expect(node(seen.out, 'wc').last_restart?.process).toBe('node');
  }, 200_000);

  it("kill -9 of the head's gcs_server: the head comes back and the cluster is healthy within 90 s", async () => {
    const [gcs] = pids('nkh1', 'gcs_server');
    expect(gcs).toBeGreaterThan(0);
    const before = await status();
    const t0 = Date.now();
    hostExec('nkh1', `kill -9 ${gcs}`);
    const seen = await until(
      (o) => healthy(o) && (node(o, 'head').restarts ?? 0) > (node(before, 'head').restarts ?? 0),
      t0,
      150_000,
    );
    expect(seen.ms).toBeLessThan(90_000);
    expect(node(seen.out, 'head').last_restart).toMatchObject({ process: 'gcs_server', signal: 'SIGKILL' });
  }, 240_000);

  it('a rolling restart of the supervised cluster goes through the supervisor: never two Rays on a node', async () => {
    writeFileSync(
      file,
      clusterConfig({
        name: 'sup',
        spec: { keep_sessions: 2 },
        nodes: nodes.map((n) => (n.name === 'w1' ? { ...n, ray: { num_cpus: 2 } } : n)),
      }),
    );
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, raylets('nkh2').length);
        await sleep(200);
      }
    })();
    const run = await cli('start', file);
    sampling = false;
    await sampler;
    expect(run.code, run.stderr).toBe(0);
    expect(json(run).changes).toBe(1);
    expect(most).toBe(1);
    const out = await status();
    expect(out.status).toBe('healthy');
    // the drained raylet's exit was not a restart (a deploy starts the count again)
    expect(node(out, 'w1').restarts).toBe(0);
    expect(node(out, 'w1').supervision).toEqual({ launcher: 'detached', state: 'running' });
  }, 300_000);

  it('a crash loop is bounded: given up after a few tries, named by status with its last exit', async () => {
    // Ray cannot start on w1 any more: its temp dir (the session's sockets and logs; a worker joins the
    // head's session, whose directory it reuses) is made another user's behind the supervisor's back,
    // then the raylet dies
    const temp = '/opt/nokube/data/sup/w1/ray';
    const mode = hostExec('nkh2', `stat -c %a ${temp}`).stdout.trim();
    hostExec('nkh2', `chown -R root:root ${temp} && chmod -R go-w ${temp}`);
    hostExec('nkh2', ': > /opt/nokube/data/sup/w1/logs/supervisor.log');
    const t0 = Date.now();
    hostExec('nkh2', 'pkill -9 -x raylet');
    // 1 + 2 + 4 + 8 + 16 s of backoff and five failed tries after the death, each up to Ray's own
    // startup timeout (~35 s here: the raylet cannot make its socket, `ray start` waits for it)
    const seen = await until((o) => node(o, 'w1').supervision?.state === 'crash-loop', t0, 420_000);
    const tries = () =>
      hostExec('nkh2', 'grep -c "ray start (try" /opt/nokube/data/sup/w1/logs/supervisor.log').stdout.trim();
    const n = Number(tries());
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(6);
    const warning = (seen.out.warnings ?? []).find((w) => w.startsWith('w1 is crash-looping'));
    expect(warning).toMatch(/last: ray start exit code \d+/);
    // and the tail of its log: Ray's own words for why (the raylet's socket refused, or the start timing
    // out waiting for it, whichever `ray start` printed last)
    expect(warning).toMatch(/Permission denied|timed out during startup/);
    // nothing spins: no try for longer than the longest backoff
    await sleep(35_000);
    expect(Number(tries())).toBe(n);
    expect(raylets('nkh2')).toHaveLength(0);
    hostExec('nkh2', `chown -R nokube: ${temp} && chmod ${mode} ${temp}`);
    // the next deploy starts it again from the spec it sends
    const run = await cli('start', file);
    expect(run.code, run.stderr).toBe(0);
    const out = await status();
    expect(out.status).toBe('healthy');
    expect(node(out, 'w1').supervision?.state).toBe('running');
    expect(node(out, 'w1').restarts).toBe(0);
  }, 700_000);

  it("Ray's logs stay bounded: its rotation on every node, exited workers' logs pruned by the supervisor", async () => {
    const MAX = 65536;
    const logFile = join(dir, 'suplog.yaml');
    const write = (restart: string) =>
      writeFileSync(
        logFile,
        clusterConfig({
          name: 'suplog',
          spec: {
            dashboard_port: 8465,
            restart,
            log_rotation: { max_bytes: '64KiB', backup_count: 2 },
            keep_dead_worker_logs: 2,
          },
          nodes: [
            { ...nodes[0]!, storage: '/opt/nokube/data/suplog/head', ray: { port: 10201, gcs_port: 6579 } },
            { ...nodes[1]!, storage: '/opt/nokube/data/suplog/w1', ray: { resources: { logspot: 1 } } },
          ],
        }),
      );
    /** RAY_ROTATION_* in the environment of the cluster's raylet on a host. */
    const rayletEnv = (host: string) =>
      hostExec(
        host,
        `for p in $(pgrep -x raylet); do if tr '\\0' ' ' < /proc/$p/cmdline | grep -q /opt/nokube/data/suplog/; then tr '\\0' '\\n' < /proc/$p/environ | grep ^RAY_ROTATION_ | sort; fi; done`,
      ).stdout.trim();
    const w1Logs = '/opt/nokube/data/suplog/w1/ray/session_latest/logs';
    const files = (): LogFiles =>
      JSON.parse(hostExec('nkh2', ['/opt/nokube-venv/bin/python3', '-c', LOG_FILES, w1Logs]).stdout) as LogFiles;
    try {
      write('always');
      const up = await cli('start', logFile);
      expect(up.code, up.stdout + up.stderr).toBe(0);
      for (const h of ['nkh1', 'nkh2'])
        expect(rayletEnv(h)).toBe(`RAY_ROTATION_BACKUP_COUNT=2\nRAY_ROTATION_MAX_BYTES=${MAX}`);

      const job = await nokube(['ray', 'exec', '--config', logFile, ...flags, '--', 'python', '-c', LOG_GROWTH]);
      expect(job.stdout, job.stderr).toContain('printed 7999');
      expect(job.stdout).toContain('tasks 10');
      // the printer's ~650 KB went through rotation: no file over the bound, at most 2 copies of any log
      const after = files();
      const rotated = Object.values(after.families).filter((f) => f.length > 1);
      expect(rotated.length, JSON.stringify(after.families)).toBeGreaterThan(0);
      for (const [base, family] of Object.entries(after.families)) {
        expect(family.length, base).toBeLessThanOrEqual(3);
        for (const [name, size] of family) expect(size, name).toBeLessThanOrEqual(MAX + 4096);
      }

      // five one-shot workers (and the killed printer) exited: within a minute and a bit the
      // supervisor keeps the logs of the 2 newest, and of the older ones only what a process still
      // holds open (Ray's log monitor keeps a worker's .out/.err open until it has 200 files open)
      const t0 = Date.now();
      const before = files(); // (the supervisor's minute may have come already: its log says below)
      let last = before;
      while (last.dead_unheld > 2 && Date.now() - t0 < 100_000) {
        await sleep(5000);
        last = files();
      }
      console.log(
        `exited workers with logs: ${before.dead_workers} before, ${last.dead_workers} after (${last.dead_unheld} with a file no process holds; held by ${last.holders.join(', ') || 'none'})`,
      );
      expect(last.dead_unheld).toBeLessThanOrEqual(2);
      expect(last.dead_unheld).toBeGreaterThan(0);
      expect(hostExec('nkh2', 'cat /opt/nokube/data/suplog/w1/logs/supervisor.log').stdout).toMatch(
        /removed \d+ log file\(s\) of exited workers \(keep_dead_worker_logs: 2\)/,
      );
      expect(Object.keys(last.families)).toEqual(expect.arrayContaining(['raylet.out', 'raylet.err']));

      // restart: never: the same rotation, given by start itself
      write('never');
      const never = await cli('start', logFile);
      expect(never.code, never.stdout + never.stderr).toBe(0);
      for (const h of ['nkh1', 'nkh2']) {
        expect(pids(h, 'supervise-run suplog ')).toEqual([]);
        expect(rayletEnv(h)).toBe(`RAY_ROTATION_BACKUP_COUNT=2\nRAY_ROTATION_MAX_BYTES=${MAX}`);
      }
    } finally {
      await cli('stop', logFile);
    }
  }, 600_000);

  it("two clusters on the same hosts: stop of one leaves the other's supervisor and Ray, then silence", async () => {
    const run2 = await cli('start', file2);
    expect(run2.code, run2.stderr).toBe(0);
    const stop = await cli('stop', file);
    expect(stop.code, stop.stderr).toBe(0);
    for (const h of ['nkh1', 'nkh2', CRON_HOST]) expect(pids(h, 'supervise-run sup ')).toEqual([]);
    expect(hostExec(CRON_HOST, 'crontab -u nokube -l 2>/dev/null || true').stdout).not.toMatch(/supervise-start/);
    // twice the longest backoff: nothing of cluster sup starts again
    await sleep(61_000);
    for (const h of ['nkh1', 'nkh2', CRON_HOST]) {
      expect(pids(h, 'supervise-run sup ')).toEqual([]);
      expect(pids(h, '/opt/nokube/data/sup/')).toEqual([]);
    }
    expect(pids('nkh2', 'supervise-run sup2 ')).toHaveLength(1);
    const other = await status(file2);
    expect(other.status).toBe('healthy');
    expect(other.nodes.map((n) => n.supervision?.state)).toEqual(['running', 'running']);
  }, 300_000);
});
