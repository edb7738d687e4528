#!/usr/bin/env node
// `npm run bench` (issue 5): nokube against its physical limit (plain ssh + `ray start`/`ray stop`)
// and, where it runs, Ray's own launcher (`ray up` with the local provider), on a private pool of
// test hosts (scripts/testhosts.sh, NOKUBE_TESTHOSTS_POOL, default pool "b": nkb1..nkbN on nkbr-b,
// 10.89.0.0/24). Never touches the default pool used by the e2e tests.
//
// Environment:
//   NOKUBE_BENCH_POOL=b           pool name (see scripts/testhosts.sh)
//   NOKUBE_BENCH_ROUNDS=3         rounds per figure (>= 1; the issue asks for >= 3)
//   NOKUBE_BENCH_FANOUT=200       hosts (sshd only) for the live `plan` / `status` fan-out figures (0 skips)
//   NOKUBE_BENCH_FANOUT_CONCURRENCY=32  --concurrency of those figures (and of their OpenSSH baseline)
//   NOKUBE_BENCH_SIZES=3,8        cluster sizes for the start/status/stop figures
//   NOKUBE_BENCH_HEALTHY_SIZES=16 cluster sizes measured healthy only: started once (untimed, no
//                                 baseline: a cold start of 16 Ray nodes on 2 cores is not a figure),
//                                 then the no-op start and status of it, each ROUNDS times ('' skips)
//   NOKUBE_BENCH_RAY_UP=1         0 skips the `ray up` column (it installs rsync when missing: Ray's
//                                 local provider needs it)
//   RAY_UP_enable_autoscaler_v2=1 `ray up` with autoscaler v2, Ray's default (default here: v1)
//   NOKUBE_BENCH_REUSE_HOSTS=1    use the pool if it is already up with enough hosts (no `up`)
//   NOKUBE_BENCH_KEEP_HOSTS=1     leave the pool up at the end (Ray is still stopped)
//   NOKUBE_BENCH_OUT=FILE         also write the results as JSON (default bench-results.json in the pool dir)
//   NOKUBE_BENCH_ONLY=a,b,...     figures to run: cold,keep,status,stop,plan,fanstatus,rayup,jump,rolling,install,
//                                 envinstall,netcheck,supervision (default all); the pool holds only the hosts the
//                                 chosen figures need. `npm run bench -- --only a,b` is the same.
//   supervision                   self-healing (issue 21, scripts/bench/supervision.mjs): a raylet killed, a
//                                 worker rebooted, the head's GCS killed (without and with Redis), the no-op
//                                 start supervised beside unsupervised, on 4 test hosts of its own. Rounds:
//                                 NOKUBE_BENCH_SUP_KILLS=5, NOKUBE_BENCH_SUP_REBOOTS=3, NOKUBE_BENCH_SUP_HEAD_KILLS=3
//                                 (each, without and with Redis), NOKUBE_BENCH_SUP_NOOPS=5
//   NOKUBE_BENCH_ENV_NODES=3      envinstall: nodes that get Ray 2.59.0 and ray_spec.install's packages in a
//                                 fresh venv, by nokube (uv from the index) and by plain ssh + pip, from the
//                                 same local index (scripts/prepare-wheels.sh, served on the pool's bridge)
//   NOKUBE_BENCH_ENV_ROUNDS=3     envinstall: its rounds (each: nokube's install and the plain one, alternating
//                                 which goes first); reported as median (min–max) of each side and of the
//                                 per-round ratio nokube / plain
//   NOKUBE_BENCH_NET_SIZES=3,8,16 cluster sizes of the `netcheck` figure: the network check `start` and a
//                                 live `plan` make before anything starts (every node listens, every
//                                 other node connects), timed by nokube itself inside a live `plan`
//   NOKUBE_BENCH_ROLLING_NODES=5  cluster size of the rolling / install figures (one worker of five changes)
//   NOKUBE_BENCH_NOOP_PAIRS=5     no-op starts with and without ray_spec.install per round (alternating)
//   NOKUBE_BENCH_CLI=FILE         the CLI bundle to measure (default dist/cli/index.js)
//   NOKUBE_BENCH_ACTION=FILE      the Action bundle to measure (default dist/index.js)
//   NOKUBE_BENCH_ONLY=validate    only the config figures (no test hosts needed, no root): a
//                                 1,000-node config and a 5 MB one, validated by the CLI and by the
//                                 Action as the runner runs it, side by side, with peak memory
//
// Every figure is measured over the rounds with its baseline in the same round, the order of nokube
// and baseline alternating round by round. Every wait is bounded in count and time; Ray is stopped
// inside the hosts and the pool torn down on exit, failure, Ctrl-C and SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { supervisionBench, supervisionTable } from './bench/supervision.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TESTHOSTS = join(ROOT, 'scripts', 'testhosts.sh');
const CLI = resolve(process.env.NOKUBE_BENCH_CLI || join(ROOT, 'dist', 'cli', 'index.js'));
const POOL = process.env.NOKUBE_BENCH_POOL || 'b';
const ROUNDS = Math.max(1, Number(process.env.NOKUBE_BENCH_ROUNDS || 3));
const FANOUT = Number(process.env.NOKUBE_BENCH_FANOUT ?? 200);
const FANOUT_CONCURRENCY = Number(process.env.NOKUBE_BENCH_FANOUT_CONCURRENCY || 32);
const SIZES = (process.env.NOKUBE_BENCH_SIZES || '3,8')
  .split(',')
  .map(Number)
  .filter((n) => n >= 2);
const HEALTHY_SIZES = (process.env.NOKUBE_BENCH_HEALTHY_SIZES ?? '16')
  .split(',')
  .map(Number)
  .filter((n) => n >= 2 && !SIZES.includes(n));
const RAY_UP = process.env.NOKUBE_BENCH_RAY_UP !== '0';
/** `--only a,b` (or `--only=a,b`) on the command line, else NOKUBE_BENCH_ONLY. */
const onlyArg = (() => {
  const argv = process.argv.slice(2);
  const i = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (i < 0) return undefined;
  const v = argv[i].startsWith('--only=') ? argv[i].slice('--only='.length) : argv[i + 1];
  if (!v) {
    process.stderr.write('bench: --only needs a comma-separated list of figures, e.g. --only supervision\n');
    process.exit(2);
  }
  return v;
})();
const ONLY = new Set(
  (
    onlyArg ||
    process.env.NOKUBE_BENCH_ONLY ||
    'validate,cold,keep,status,stop,plan,fanstatus,rayup,jump,rolling,install,envinstall,netcheck,supervision'
  ).split(','),
);
const ENV_NODES = Math.max(1, Number(process.env.NOKUBE_BENCH_ENV_NODES || 3));
const ENV_ROUNDS = Math.max(1, Number(process.env.NOKUBE_BENCH_ENV_ROUNDS || 3));
const NET_SIZES = (process.env.NOKUBE_BENCH_NET_SIZES || '3,8,16')
  .split(',')
  .map(Number)
  .filter((n) => n >= 2);
const ACTION = resolve(process.env.NOKUBE_BENCH_ACTION || join(ROOT, 'dist', 'index.js'));
const VENV = process.env.NOKUBE_VENV || '/opt/nokube-venv';
const STATE = `${process.env.NOKUBE_TESTHOSTS_BASE ?? '/var/lib'}/nokube-testhosts-${POOL}`;
const WORK = join(STATE, 'bench');
// sshd without PAM on the bench's hosts (NOKUBE_TESTHOSTS_PAM=yes keeps it): a PAM session costs
// each login ≈ 15–20 % more here (pam_motd and the session modules), for nokube and for its OpenSSH
// baseline alike, and on the bench all hosts' sshd share the runner's cores
const POOL_ENV = {
  ...process.env,
  NOKUBE_TESTHOSTS_POOL: POOL,
  NOKUBE_TESTHOSTS_QUIET: '1',
  NOKUBE_TESTHOSTS_PAM: process.env.NOKUBE_TESTHOSTS_PAM ?? 'no',
};
const ROLLING_NODES = Math.max(2, Number(process.env.NOKUBE_BENCH_ROLLING_NODES || 5));
const NOOP_PAIRS = Math.max(1, Number(process.env.NOKUBE_BENCH_NOOP_PAIRS || 5));
// the figures that run per cluster size of SIZES, and the ones with a pool of their own size
const SIZED = ['cold', 'keep', 'status', 'stop', 'rayup'].some((f) => ONLY.has(f));
const ROLLING = ONLY.has('rolling') || ONLY.has('install');
const FANNING = FANOUT > 0 && (ONLY.has('plan') || ONLY.has('fanstatus'));
/** The Ray clusters' sizes this run starts (tokens written, Ray killed on exit). */
const RAY_HOSTS = Math.max(
  1,
  ...(SIZED ? SIZES : []),
  ...(ONLY.has('jump') && SIZES.length ? [SIZES[0]] : []),
  ...(ROLLING ? [ROLLING_NODES] : []),
  ...(ONLY.has('envinstall') ? [ENV_NODES] : []),
  ...(ONLY.has('keep') || ONLY.has('status') ? HEALTHY_SIZES : []),
  ...(ONLY.has('netcheck') ? NET_SIZES : []),
);
// a 200-host pool only when the fan-out figures run (bringing it up takes minutes on a loaded machine)
const MAX_HOSTS = Math.max(RAY_HOSTS, FANNING ? FANOUT : 0);
const GCS_PORT = 6379;
const DASH_PORT = 8265;
const CLIENT_PORT = 10001;
const OSM = 100_000_000;

const log = (m) => process.stderr.write(`bench: ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// processes (always bounded by a timeout)

/** Runs argv; resolves {code, stdout, stderr, ms}. Kills the whole process group on timeout. */
function run(argv, { timeoutMs = 120_000, env = process.env, input } = {}) {
  return new Promise((resolveRun) => {
    const t0 = performance.now();
    const p = spawn(argv[0], argv.slice(1), { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(p);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.stdin.on('error', () => {});
    p.stdin.end(input ?? '');
    const timer = setTimeout(() => {
      stderr += `\n[bench: timed out after ${timeoutMs} ms]`;
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(p);
      resolveRun({ code: code ?? (signal ? 128 : -1), stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

function runSync(argv, { timeoutMs = 600_000, env = process.env } = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function must(r, what) {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${(r.stderr || r.stdout).slice(-3000)}`);
  return r;
}

const children = new Set();
const sshControlDirs = () =>
  readdirSync('/tmp')
    .filter((x) => x.startsWith('ray_ssh_'))
    .map((x) => join('/tmp', x));
const sshDirsBefore = new Set(sshControlDirs());
let rayUpActive; // the yaml of a `ray up` cluster that may be running (for cleanup)

// ---------------------------------------------------------------------------------------------
// hosts

let hosts = [];
let client;
const hostName = (i) => `nk${POOL}${i + 1}`;

function poolUp() {
  const facts = join(STATE, 'hosts.json');
  if (process.env.NOKUBE_BENCH_REUSE_HOSTS === '1' && existsSync(facts)) {
    const info = JSON.parse(readFileSync(facts, 'utf8'));
    const st = runSync([TESTHOSTS, 'status'], { env: POOL_ENV });
    if (info.hosts.length >= MAX_HOSTS && st.code === 0 && !st.stdout.includes(' down')) {
      log(`reusing pool ${POOL} (${info.hosts.length} hosts)`);
      return info;
    }
  }
  log(`bringing up pool ${POOL}: ${MAX_HOSTS} hosts (first time: host keys are generated, about a minute)`);
  must(runSync([TESTHOSTS, 'up', String(MAX_HOSTS)], { env: POOL_ENV, timeoutMs: 900_000 }), 'testhosts up');
  return JSON.parse(readFileSync(facts, 'utf8'));
}

/** Runs a shell line inside a host (its PID namespace: `ray stop` there sees only that host). */
function hostExec(i, line, user = 'nokube', timeoutMs = 60_000) {
  return run([TESTHOSTS, 'exec', hostName(i), '--user', user, '--', 'bash', '-c', line], { env: POOL_ENV, timeoutMs });
}

/** Kills every Ray process inside hosts 0..n-1 (inside their PID namespaces only). */
async function killRay(n) {
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      hostExec(
        i,
        `pkill -KILL -u nokube -f supervise- 2>/dev/null; pkill -KILL -u nokube -f 'ray|raylet|gcs_server|default_worker' 2>/dev/null; for _ in $(seq 50); do pgrep -u nokube -f 'raylet|gcs_server' >/dev/null || break; sleep 0.1; done; rm -rf /tmp/ray /opt/nokube/data/plain; true`,
      ),
    ),
  );
}

let cleaning = false;
let poolTouched = false;
/** Cleanups of the parts that add hosts of their own (run on exit, failure and signals). */
const cleanupHooks = [];
async function cleanup(reason) {
  if (cleaning) return;
  cleaning = true;
  log(`cleaning up (${reason})`);
  for (const p of children) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const hook of cleanupHooks) await Promise.race([hook().catch(() => undefined), sleep(120_000)]);
  if (rayUpActive) await Promise.race([rayDownQuiet(rayUpActive), sleep(60_000)]);
  // Ray's SSH control sockets (always under /tmp): remove the directories this run created
  for (const d of sshControlDirs().filter((x) => !sshDirsBefore.has(x))) rmSync(d, { recursive: true, force: true });
  if (hosts.length) {
    await Promise.race([killRay(Math.min(hosts.length, RAY_HOSTS)), sleep(30_000)]);
  }
  if (!poolTouched) return; // the config figures alone never bring the pool up
  if (process.env.NOKUBE_BENCH_KEEP_HOSTS === '1') {
    log(`NOKUBE_BENCH_KEEP_HOSTS=1: pool ${POOL} left up (NOKUBE_TESTHOSTS_POOL=${POOL} ${TESTHOSTS} down)`);
  } else {
    runSync([TESTHOSTS, 'down'], { env: POOL_ENV, timeoutMs: 300_000 });
    log(`pool ${POOL} is down`);
  }
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    cleanup(sig).finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// the network check before start (issue 23): a live `plan` on stopped nodes makes it in full (every
// node binds its ports, every other node connects); nokube times it itself and says so on stderr

const NET_LINE = /network: (\d+) pairs of nodes reached each other on (\d+) ports in ([\d.]+) s/;

async function netCheckBench(ips, add) {
  for (const n of NET_SIZES) {
    const name = `net${n}`;
    const cfg = join(WORK, `${name}.yaml`);
    writeFileSync(cfg, nokubeConfig(name, n, ips));
    await killRay(n);
    for (let round = 0; round < ROUNDS; round++) {
      const r = await nokube(['plan'], cfg);
      const m = NET_LINE.exec(r.stderr);
      if (r.code !== 0 || !m)
        throw new Error(`nokube plan (${n} nodes): ${r.stdout.slice(-1500)}${r.stderr.slice(-1500)}`);
      add(`netcheck${n}`, Math.round(Number(m[3]) * 1000));
      add(`netcheckPairs${n}`, Number(m[1]));
      add(`netcheckPorts${n}`, Number(m[2]));
      add(`netcheckPlan${n}`, r.ms);
      log(`  ${n} nodes: network check ${m[3]} s (${m[1]} pairs, ${m[2]} connects), the whole plan ${fmtS(r.ms)} s`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// configs

/** `lastCpus`: num_cpus of the last worker (a rolling change); `install`: ray_spec.install set. */
function nokubeConfig(name, n, ips, { lastCpus = 1, install = false } = {}) {
  const lines = [
    'ray_spec:',
    `  dashboard_port: ${DASH_PORT}`,
    `  max_workers: ${Math.max(100, n)}`,
    `  cluster_name: ${name}`,
    ...(install ? ['  ray_version: "2.60.0"', '  install: {extras: [default]}'] : []),
    'nodes:',
  ];
  for (let i = 0; i < n; i++) {
    const head = i === 0;
    lines.push(`  - ssh_url: "${ips[i]}:22"`, `    name: ${name}-n${i + 1}`, `    role: ${head ? 'head' : 'worker'}`);
    lines.push('    ray_config:');
    if (head) lines.push(`      port: ${CLIENT_PORT}`, `      dashboard_port: ${DASH_PORT}`);
    lines.push(`      num_cpus: ${i === n - 1 && !head ? lastCpus : 1}`, `      object_store_memory: ${OSM}`);
    lines.push(`    storage: {type: local, path: /opt/nokube/data/${name}}`);
  }
  return lines.join('\n') + '\n';
}

/** Runs the CLI under test; `wrap` prefixes the command (e.g. `/usr/bin/time -v` for peak memory). */
function nokube(args, cfg, extra = [], { wrap = [], timeoutMs = 600_000, env } = {}) {
  const flags = [
    '--config',
    cfg,
    '--identity',
    client.keys.ed25519,
    '--known-hosts',
    client.known_hosts,
    '--user',
    client.user,
    '--json',
    ...extra,
  ];
  return run([...wrap, 'node', CLI, 'ray', ...args, ...flags], { timeoutMs, env });
}

function parseJson(r) {
  try {
    return JSON.parse(r.stdout);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// the plain-ssh baseline: OpenSSH, one connection per command, exactly Ray's commands

function sshArgv(ip, line) {
  return [
    'ssh',
    '-i',
    client.keys.ed25519,
    '-o',
    `UserKnownHostsFile=${client.known_hosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    `${client.user}@${ip}`,
    line,
  ];
}

const TOKEN_FILE = '.nokube-bench-token';
let benchToken = '';

/** Where the baseline's Ray keeps its temp dir: on the same disk as nokube's (`<storage>/ray`), not tmpfs. */
const PLAIN_TEMP = '/opt/nokube/data/plain/ray';

/** Same switches as nokube gives `ray start`: token auth, dashboard on, num_cpus, object store, temp dir. */
function plainStartLine(head, headIp, ip, i) {
  const env = `RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$HOME/${TOKEN_FILE}" RAY_USAGE_STATS_ENABLED=0`;
  const common = `--node-ip-address=${ip} --num-cpus=1 --object-store-memory=${OSM} --labels=nokube.io/node=plain-n${i + 1} --temp-dir=${PLAIN_TEMP} --disable-usage-stats`;
  return head
    ? `${env} ray start --head --port=${GCS_PORT} --ray-client-server-port=${CLIENT_PORT} --dashboard-host=0.0.0.0 --dashboard-port=${DASH_PORT} --include-dashboard=true ${common} >/dev/null 2>&1`
    : `${env} ray start --address=${headIp}:${GCS_PORT} ${common} >/dev/null 2>&1`;
}

/** Alive nodes in the head's node table (Ray's state API on the dashboard), or -1. */
async function aliveInHead(headIp, token) {
  try {
    const res = await fetch(`http://${headIp}:${DASH_PORT}/api/v0/nodes?detail=true&limit=1000&timeout=2`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(3000),
    });
    if (!res.ok) return -1;
    const body = await res.json();
    const d = body?.data?.result;
    const rows = Array.isArray(d) ? d : (d?.result ?? []);
    return rows.filter((r) => r.state === 'ALIVE').length;
  } catch {
    return -1;
  }
}

async function waitAlive(headIp, n, token, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; i < 100_000 && performance.now() < deadline; i++) {
    if ((await aliveInHead(headIp, token)) >= n) return true;
    await sleep(100);
  }
  return false;
}

/** The line, with how long it ran inside the host printed as `RAY_MS <ms>` (its own output goes nowhere). */
function timedLine(line) {
  return `s=$(date +%s%N); ${line}; rc=$?; echo "RAY_MS $(( ($(date +%s%N) - s) / 1000000 ))"; exit $rc`;
}

const rayMsOf = (r) => Number(/RAY_MS (\d+)/.exec(r.stdout)?.[1] ?? NaN);

/**
 * Plain ssh: the head's `ray start`, then every worker's at once, until the head lists all n alive.
 * Resolves the wall time `ms`, Ray's own part of it `ray` (the head's `ray start` plus the slowest
 * worker's, timed inside the hosts) and `wait`, from the last `ray start`'s return until all alive:
 * `ms - ray - wait` is what the SSH logins took.
 */
async function plainStartTimed(n, ips) {
  const t0 = performance.now();
  const head = await run(sshArgv(ips[0], timedLine(plainStartLine(true, ips[0], ips[0], 0))), { timeoutMs: 180_000 });
  must(head, 'plain head start');
  const workers = await Promise.all(
    ips
      .slice(1, n)
      .map((ip, k) => run(sshArgv(ip, timedLine(plainStartLine(false, ips[0], ip, k + 1))), { timeoutMs: 180_000 })),
  );
  workers.forEach((w, k) => must(w, `plain worker ${k + 1} start`));
  const returned = performance.now();
  if (!(await waitAlive(ips[0], n, benchToken, 120_000))) throw new Error(`plain: ${n} nodes not alive in 120 s`);
  const end = performance.now();
  return { ms: end - t0, ray: rayMsOf(head) + Math.max(0, ...workers.map(rayMsOf)), wait: end - returned };
}

async function plainStart(n, ips) {
  return (await plainStartTimed(n, ips)).ms;
}

/**
 * From nokube's own timeline (`--timeline`), as plainStartTimed splits its run: `ray`, the head's
 * `ray start` plus the slowest worker's (timed on the nodes), and `wait`, from the last start's
 * return until the last node was seen alive in the head's view.
 */
function splitOfTimeline(j, headName) {
  const rows = Array.isArray(j?.timeline) ? j.timeline : [];
  const head = rows.find((r) => r.node === headName)?.rayStartMs;
  const workers = rows.filter((r) => r.node !== headName).map((r) => r.rayStartMs ?? NaN);
  const ends = (phase) => rows.flatMap((r) => r.spans.filter((x) => x.phase === phase).map((x) => x.endMs));
  return {
    ray: (head ?? NaN) + Math.max(0, ...workers),
    wait: Math.max(...ends('alive')) - Math.max(...ends('start')),
  };
}

/** Plain ssh: `ray stop` + `ray start` of the last worker, until the head lists every node alive again. */
async function plainRestartLast(n, ips) {
  const t0 = performance.now();
  const ip = ips[n - 1];
  must(await run(sshArgv(ip, 'ray stop >/dev/null 2>&1'), { timeoutMs: 120_000 }), 'plain worker stop');
  must(await run(sshArgv(ip, plainStartLine(false, ips[0], ip, n - 1)), { timeoutMs: 180_000 }), 'plain worker start');
  if (!(await waitAlive(ips[0], n, benchToken, 120_000))) throw new Error(`plain: worker not alive again in 120 s`);
  return performance.now() - t0;
}

async function plainStop(n, ips) {
  const t0 = performance.now();
  const w = await Promise.all(
    ips.slice(1, n).map((ip) => run(sshArgv(ip, 'ray stop >/dev/null 2>&1'), { timeoutMs: 120_000 })),
  );
  w.forEach((r, k) => must(r, `plain worker ${k + 1} stop`));
  must(await run(sshArgv(ips[0], 'ray stop >/dev/null 2>&1'), { timeoutMs: 120_000 }), 'plain head stop');
  return performance.now() - t0;
}

// ---------------------------------------------------------------------------------------------
// Ray's own launcher: `ray up` with the local provider
//
// As `ray up` does by default: Ray's default start commands (plus the same num_cpus/object store as
// the other columns), no token auth (Ray 2.60's `ray start` turns it on only with RAY_AUTH_MODE=token or
// a token file already on the node; `ray up` sets neither), dashboard on 127.0.0.1 of
// the head, so the node table is read from inside the head host. Autoscaler v1
// (RAY_UP_enable_autoscaler_v2=0, Ray's switch for `ray up`): with v2 (Ray's default) the workers
// never joined within 180 s in two of three tries here, as in the issue. RAY_UP_enable_autoscaler_v2=1
// in the bench's environment measures v2.
// Ray's SSH gets the pool's client key and user; it runs with its own options (no host-key check) and
// runs every command in a login shell, whose PATH (Debian's /etc/profile) lacks the venv: for these
// rounds only, each host's ~/.bashrc (which Ray sources) puts the venv first, as a Ray user's would.

const AUTOSCALER_V2 = process.env.RAY_UP_enable_autoscaler_v2 === '1';
const RAYUP_WAIT_MS = 180_000; // every wait for the node table
const LINGER_MS = 90_000; // how long we watch worker raylets after `ray down`

function rayUpYaml(n, ips) {
  const cmd = `--num-cpus=1 --object-store-memory=${OSM} --disable-usage-stats`;
  return `cluster_name: nkbenchup${n}
provider:
  type: local
  head_ip: ${ips[0]}
  worker_ips: [${ips.slice(1, n).join(', ')}]
auth:
  ssh_user: ${client.user}
  ssh_private_key: ${client.keys.ed25519}
min_workers: ${n - 1}
max_workers: ${n - 1}
upscaling_speed: 100
idle_timeout_minutes: 60
file_mounts: {}
cluster_synced_files: []
initialization_commands: []
setup_commands: []
head_setup_commands: []
worker_setup_commands: []
head_start_ray_commands:
  - ray stop
  - ray start --head --port=${GCS_PORT} --autoscaling-config=~/ray_bootstrap_config.yaml ${cmd}
worker_start_ray_commands:
  - ray stop
  - ray start --address=$RAY_HEAD_IP:${GCS_PORT} ${cmd}
`;
}

const RAY_UP_ENV = () => ({
  ...process.env,
  PATH: `${VENV}/bin:${process.env.PATH}`,
  RAY_USAGE_STATS_ENABLED: '0',
  HOME: join(WORK, 'rayup-home'),
  // the local provider's cluster state and lock, the cached and bootstrap configs: not in /tmp
  RAY_TMPDIR: join(WORK, 'rayup-tmp'),
  TMPDIR: join(WORK, 'rayup-tmp'),
  RAY_UP_enable_autoscaler_v2: AUTOSCALER_V2 ? '1' : '0', // Ray's own switch for `ray up`; see above
});

/** The head's node table, read inside the head host (dashboard on 127.0.0.1): [{id, alive}] or null. */
async function headTable() {
  const r = await hostExec(
    0,
    `curl -s -m 3 'http://127.0.0.1:${DASH_PORT}/api/v0/nodes?detail=true&limit=1000&timeout=2'`,
    'nokube',
    10_000,
  );
  if (r.code !== 0) return null;
  try {
    const d = JSON.parse(r.stdout)?.data?.result;
    const rows = Array.isArray(d) ? d : (d?.result ?? []);
    return rows.map((x) => ({ id: x.node_id, alive: x.state === 'ALIVE' }));
  } catch {
    return null;
  }
}

/** Polls the head's table until ok(rows) (bounded in count and time); returns the rows or null. */
async function waitTable(ok, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; i < 5000 && performance.now() < deadline; i++) {
    const rows = await headTable();
    if (rows && ok(rows)) return rows;
    await sleep(200);
  }
  return null;
}

const aliveIds = (rows) => rows.filter((x) => x.alive).map((x) => x.id);

/** Seconds after `ray down` until no raylet is left on the workers (bounded: null when > LINGER_MS). */
async function rayletLinger(n, since) {
  const deadline = since + LINGER_MS;
  for (let i = 0; i < 1000 && performance.now() < deadline; i++) {
    const left = await Promise.all(
      Array.from({ length: n - 1 }, (_, k) =>
        hostExec(k + 1, 'pgrep -u nokube -x raylet >/dev/null', 'nokube', 10_000),
      ),
    );
    if (left.every((r) => r.code === 1)) return performance.now() - since;
    await sleep(1000);
  }
  return null;
}

const rayCli = (args) => run([`${VENV}/bin/ray`, ...args], { env: RAY_UP_ENV(), timeoutMs: 300_000 });

/** Puts the venv on the login shell's PATH (~/.bashrc, which Ray sources) of hosts 0..n-1, or removes it. */
async function rayUpBashrc(n, on) {
  const line = on ? `echo 'export PATH=${VENV}/bin:$PATH' > ~/.bashrc` : 'rm -f ~/.bashrc';
  await Promise.all(Array.from({ length: n }, (_, i) => hostExec(i, line)));
}

async function rayDownQuiet(yaml) {
  await run([`${VENV}/bin/ray`, 'down', '-y', yaml], { env: RAY_UP_ENV(), timeoutMs: 120_000 });
}

/**
 * One round: cold `ray up` until all n nodes are alive in the head's table; `ray up` again on the
 * running cluster (restart or not; until all alive again); `ray down` and the workers' raylets after it.
 */
async function rayUp(n, ips) {
  const yaml = join(WORK, `rayup-${n}.yaml`);
  mkdirSync(join(WORK, 'rayup-tmp'), { recursive: true });
  writeFileSync(yaml, rayUpYaml(n, ips));
  const out = {};
  const tail = (r) => (r.stderr + r.stdout).slice(-800);
  rayUpActive = yaml;
  try {
    let t0 = performance.now();
    const r = await rayCli(['up', '-y', '--no-config-cache', yaml]);
    out.returned = performance.now() - t0;
    if (r.code !== 0) return { ...out, error: `ray up exit ${r.code}: ${tail(r)}` };
    let rows = await waitTable((x) => aliveIds(x).length >= n, RAYUP_WAIT_MS);
    if (!rows) {
      const last = await headTable();
      // what the head's autoscaler said, kept for the record (raw results file)
      const mon = await hostExec(0, 'tail -n 30 /tmp/ray/session_latest/logs/monitor.log 2>&1', 'nokube', 10_000);
      out.diag = `alive ${last ? aliveIds(last).length : '?'}/${n}; monitor.log:\n${mon.stdout.slice(-3000)}`;
      return { ...out, error: `ray up: ${n} nodes not alive in the head's table within ${RAYUP_WAIT_MS / 1000} s` };
    }
    out.alive = performance.now() - t0;
    const before = new Set(aliveIds(rows));

    // `ray up` again, nothing changed
    t0 = performance.now();
    const r2 = await rayCli(['up', '-y', '--no-config-cache', yaml]);
    out.againReturned = performance.now() - t0;
    if (r2.code !== 0) return { ...out, error: `second ray up exit ${r2.code}: ${tail(r2)}` };
    // restarted when none of the nodes alive before is in the (new) head's table
    rows = await waitTable((x) => aliveIds(x).length >= n, RAYUP_WAIT_MS);
    if (!rows) return { ...out, error: `second ray up: ${n} nodes not alive within ${RAYUP_WAIT_MS / 1000} s` };
    out.againAlive = performance.now() - t0;
    out.restarted = !aliveIds(rows).some((id) => before.has(id));

    const t1 = performance.now();
    const d = await rayCli(['down', '-y', yaml]);
    const downEnd = performance.now();
    out.down = downEnd - t1;
    if (d.code !== 0) return { ...out, error: `ray down exit ${d.code}: ${tail(d)}` };
    rayUpActive = undefined;
    out.linger = await rayletLinger(n, downEnd);
    return out;
  } finally {
    if (rayUpActive) {
      await rayDownQuiet(yaml);
      rayUpActive = undefined;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// one Python environment on every node (issue 24): an install of Ray and the cluster's packages

const ENV_PACKAGES = ['tabulate==0.9.0', 'toolz==1.0.0', 'six==1.17.0'];
const ENV_STORAGE = (name) => `/opt/nokube/data/${name}`;

/**
 * Ray 2.59.0 (the hosts run 2.60.0, so every node installs) with ENV_PACKAGES into a fresh venv on
 * ENV_NODES nodes: `nokube ray start` (its install phase: uv from the index, else pip) next to plain
 * `python3 -m venv` + `pip install` over ssh on the same nodes in parallel, from the same local index,
 * with every cache (pip's, uv's) emptied before each side, alternating which goes first.
 */
async function envInstallBench(n, ips, add) {
  const wheels = process.env.NOKUBE_WHEELS ?? '/var/cache/nokube-wheels';
  if (!existsSync(join(wheels, 'simple', 'uv')))
    throw new Error(`${wheels}/simple/uv is missing: run scripts/prepare-wheels.sh`);
  const bridge = ips[0].replace(/\.\d+$/, '.1');
  const index = `http://${bridge}:8099/simple/`;
  const server = spawn('python3', ['-m', 'http.server', '8099', '--bind', bridge, '--directory', wheels], {
    stdio: 'ignore',
    detached: true,
  });
  children.add(server);
  try {
    for (
      let i = 0;
      i < 50 &&
      !(await fetch(index + 'ray/').then(
        (r) => r.ok,
        () => false,
      ));
      i++
    )
      await sleep(200);
    const name = `env${n}`;
    const cfg = join(WORK, `${name}.yaml`);
    const lines = nokubeConfig(name, n, ips).split('\n');
    lines.splice(
      4,
      0,
      '  ray_version: "2.59.0"',
      `  install: {extras: [default], index_url: "${index}", packages: [${ENV_PACKAGES.join(', ')}]}`,
    );
    writeFileSync(cfg, lines.join('\n'));
    const fresh = () =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          hostExec(i, `rm -rf ~/.cache/pip ~/.cache/uv ${ENV_STORAGE(name)} /opt/nokube/data/plainenv; true`),
        ),
      );
    const doNokube = async () => {
      await fresh();
      const r = await nokube(['start'], cfg, [], { timeoutMs: 3_600_000 });
      if (r.code !== 0) throw new Error(`nokube start with install: ${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
      // the slowest node's install, from its progress line: "installed Ray 2.59.0 with uv (41.2s)"
      const done = [...r.stderr.matchAll(/installed Ray 2\.59\.0 with (\w+) \(([\d.]+)s\)/g)];
      if (done.length !== n)
        throw new Error(`nokube installed on ${done.length} of ${n} nodes: ${r.stderr.slice(-2000)}`);
      const ms = Math.max(...done.map((m) => Number(m[2]) * 1000));
      const installer = [...new Set(done.map((m) => m[1]))].join('+');
      add(`envNokube${n}`, ms);
      add(`envNokubeStart${n}`, r.ms);
      log(`  nokube install phase (${installer}) ${fmtS(ms)} s (whole start ${fmtS(r.ms)} s)`);
      must(await nokube(['stop'], cfg), 'nokube stop after the install');
      return ms;
    };
    const doPlain = async () => {
      await fresh();
      const line =
        `python3 -m venv /opt/nokube/data/plainenv && /opt/nokube/data/plainenv/bin/pip install -q --disable-pip-version-check ` +
        `'ray[default]==2.59.0' ${ENV_PACKAGES.join(' ')} --index-url ${index} --trusted-host ${bridge}`;
      const t0 = Date.now();
      const rs = await Promise.all(ips.slice(0, n).map((ip) => run(sshArgv(ip, line), { timeoutMs: 3_600_000 })));
      const ms = Date.now() - t0;
      rs.forEach((r, i) => must(r, `plain pip install on ${hostName(i)}`));
      add(`envPlain${n}`, ms);
      log(`  plain ssh + pip install ${fmtS(ms)} s`);
      return ms;
    };
    for (let round = 0; round < ENV_ROUNDS; round++) {
      log(`${n} nodes, install of Ray + ${ENV_PACKAGES.length} packages, round ${round + 1}/${ENV_ROUNDS}`);
      const took = new Map();
      for (const side of round % 2 === 0 ? [doNokube, doPlain] : [doPlain, doNokube]) {
        took.set(side, await side());
        await killRay(n);
      }
      // nokube against the baseline of the same round (the machine's load changes between rounds)
      add(`envRatio${n}`, took.get(doNokube) / took.get(doPlain));
      log(`  round ${round + 1}: nokube / plain ${(took.get(doNokube) / took.get(doPlain)).toFixed(2)}×`);
    }
    await fresh();
  } finally {
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    children.delete(server);
  }
}

// ---------------------------------------------------------------------------------------------
// changing a running cluster (issue 9), on one cluster of ROLLING_NODES nodes

/**
 * A rolling change of the last worker (num_cpus 1 → 2: drained, restarted, until the head lists it
 * alive again as configured) next to plain ssh `ray stop` + `ray start` of that worker; and `start`
 * with ray_spec.install and nothing to install next to the same no-op start without it, NOOP_PAIRS
 * of each per round, alternating, on the same running cluster.
 */
async function rollingBench(n, ips, results, add) {
  const name = `roll${n}`;
  const cfg = join(WORK, `${name}.yaml`);
  const rolled = join(WORK, `${name}-rolled.yaml`);
  const installCfg = join(WORK, `${name}-install.yaml`);
  writeFileSync(cfg, nokubeConfig(name, n, ips));
  writeFileSync(rolled, nokubeConfig(name, n, ips, { lastCpus: 2 }));
  writeFileSync(installCfg, nokubeConfig(name, n, ips, { install: true }));
  must(await nokube(['stop'], cfg), 'warm-up stop'); // uploads remote_lib once, as after a first deploy
  const noOp = async (which) => {
    const r = await nokube(['start'], which === 'keep' ? cfg : installCfg);
    if (r.code !== 0 || parseJson(r)?.changes !== 0 || /installing/.test(r.stderr))
      throw new Error(`nokube ${which} no-op start: ${r.stdout.slice(-2000)}${r.stderr.slice(-1000)}`);
    return r.ms;
  };
  for (let round = 0; round < ROUNDS; round++) {
    log(`${n} nodes, rolling/install round ${round + 1}/${ROUNDS}`);
    const doNokube = async () => {
      const s = await nokube(['start'], cfg);
      if (s.code !== 0 || parseJson(s)?.status !== 'healthy')
        throw new Error(`nokube start before the rolling change: ${s.stdout.slice(-2000)}${s.stderr.slice(-1000)}`);
      if (ONLY.has('install')) {
        // untimed: the first look after a cold start meets a head still settling (dashboard, GCS)
        await noOp('keep');
        for (let k = 0; k < NOOP_PAIRS; k++) {
          const pair = (round + k) % 2 === 0 ? ['keep', 'install'] : ['install', 'keep'];
          const ms = {};
          for (const which of pair) {
            ms[which] = await noOp(which);
            add(which === 'keep' ? `noopKeep${n}` : `noopInstall${n}`, ms[which]);
          }
          log(`  no-op start ${fmtS(ms.keep)} s, with install (nothing to install) ${fmtS(ms.install)} s`);
        }
      }
      if (ONLY.has('rolling')) {
        const r = await nokube(['start'], rolled);
        const j = parseJson(r);
        if (r.code !== 0 || j?.status !== 'healthy' || j?.changes !== 1)
          throw new Error(`nokube rolling start: ${r.stdout.slice(-2000)}${r.stderr.slice(-1000)}`);
        add(`rolling${n}`, r.ms);
        log(`  nokube rolling change of 1 worker ${fmtS(r.ms)} s`);
      }
      must(await nokube(['stop'], cfg), 'nokube stop after the rolling change');
    };
    const doPlain = async () => {
      if (!ONLY.has('rolling')) return;
      await plainStart(n, ips);
      const t = await plainRestartLast(n, ips);
      add(`plainRestart${n}`, t);
      log(`  plain ssh ray stop + ray start of 1 worker ${fmtS(t)} s`);
      await plainStop(n, ips);
    };
    // nothing of one side may linger into the other's start
    for (const side of round % 2 === 0 ? [doNokube, doPlain] : [doPlain, doNokube]) {
      await side();
      await killRay(n);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// fan-out (issue 14): live `plan` and `status` over many sshd-only hosts at concurrency 32, next to
// the same fan-out done with OpenSSH (one `ssh host python3 -c pass` per host, as a shell loop with
// `xargs -P 32` would): a login and a Python start per host, nothing else. Peak memory from
// /usr/bin/time; per-node phase times from `--timeline`. A 1-host `plan` gives the fixed cost (the
// CLI's start-up) and, with the big one's peak RSS, the memory per connection.

/** A worker's `ray start` gave up on its raylet's registration with the head (node.py's fixed 30 s). */
function registrationTimeout(text) {
  return /cannot reach the head's GCS|timed out during startup|GCS has become overloaded/.test(text);
}

/** The targets of issue 14: a no-op start / status of a healthy cluster. */
function noOpLimitMs(n) {
  return n <= 3 ? 1000 : n <= 16 ? 2000 : undefined;
}

async function plainFanOut(ips, width) {
  const t0 = performance.now();
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < ips.length) {
      const ip = ips[next++];
      if ((await run(sshArgv(ip, 'python3 -c pass'), { timeoutMs: 120_000 })).code !== 0) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, ips.length) }, worker));
  return { ms: performance.now() - t0, failed };
}

const median = (xs) => (xs.length ? stat(xs).median : undefined);

async function nokubeFanOut(verb, cfg, hostsWanted) {
  const r = await nokube([verb], cfg, ['--concurrency', String(FANOUT_CONCURRENCY), '--timeline'], {
    wrap: ['/usr/bin/time', '-v'],
    timeoutMs: 300_000,
  });
  const j = parseJson(r);
  const reached = (j?.nodes ?? []).filter((x) => x.state !== 'unreachable').length;
  // status of a cluster that was never started: exit 1 (stopped), every node reached
  if (!j || reached !== hostsWanted || (verb === 'plan' && r.code !== 0))
    throw new Error(`${verb} fan-out: exit ${r.code}, ${reached}/${hostsWanted} reached\n${r.stderr.slice(-2000)}`);
  const num = (re) => Number(re.exec(r.stderr)?.[1] ?? NaN);
  const phase = (name) =>
    median(
      (j.timeline ?? []).flatMap((row) => row.spans.filter((x) => x.phase === name).map((x) => x.endMs - x.startMs)),
    );
  return {
    ms: r.ms,
    rss: num(/Maximum resident set size \(kbytes\): (\d+)/) * 1024,
    cpuMs: (num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/)) * 1000,
    connectMs: phase('connect'),
    remoteMs: phase(verb === 'plan' ? 'inspect' : 'status'),
  };
}

async function fanOutBench(ips, add) {
  const cfg = join(WORK, `fanout${FANOUT}.yaml`);
  writeFileSync(cfg, nokubeConfig(`fan${FANOUT}`, FANOUT, ips));
  const one = join(WORK, 'fanout1.yaml');
  writeFileSync(one, nokubeConfig('fan1', 1, ips));
  must(await nokube(['plan'], cfg, ['--concurrency', String(FANOUT_CONCURRENCY)]), 'warm-up plan'); // uploads remote_lib
  const verbs = ['plan', 'fanstatus'].filter((v) => ONLY.has(v));
  for (let round = 0; round < ROUNDS; round++) {
    const plainFirst = round % 2 === 1;
    if (plainFirst) {
      const p = await plainFanOut(ips.slice(0, FANOUT), FANOUT_CONCURRENCY);
      add('fanPlain', p.ms);
      log(`  plain ssh x${FANOUT} ${fmtS(p.ms)} s${p.failed ? ` (${p.failed} failed)` : ''}`);
    }
    for (const v of verbs) {
      const r = await nokubeFanOut(v === 'plan' ? 'plan' : 'status', cfg, FANOUT);
      for (const k of ['ms', 'rss', 'cpuMs', 'connectMs', 'remoteMs'])
        if (r[k] !== undefined) add(`fan_${v}_${k}`, r[k]);
      log(
        `  ${v} x${FANOUT} ${fmtS(r.ms)} s, peak RSS ${(r.rss / 2 ** 20).toFixed(0)} MB, CPU ${fmtS(r.cpuMs)} s, ` +
          `per node: connect ${fmtS(r.connectMs)} s, remote_lib ${fmtS(r.remoteMs)} s (medians)`,
      );
    }
    if (!plainFirst) {
      const p = await plainFanOut(ips.slice(0, FANOUT), FANOUT_CONCURRENCY);
      add('fanPlain', p.ms);
      log(`  plain ssh x${FANOUT} ${fmtS(p.ms)} s${p.failed ? ` (${p.failed} failed)` : ''}`);
    }
    const small = await nokubeFanOut('plan', one, 1);
    add('fan_one_ms', small.ms);
    add('fan_one_rss', small.rss);
  }
}

function fanOutRows(F) {
  const rows = [];
  const base = F.fanPlain ? stat(F.fanPlain) : undefined;
  for (const v of ['plan', 'fanstatus']) {
    if (!F[`fan_${v}_ms`]) continue;
    const a = stat(F[`fan_${v}_ms`]);
    const rss = stat(F[`fan_${v}_rss`]);
    const perConn = F.fan_one_rss ? (rss.median - stat(F.fan_one_rss).median) / (FANOUT - 1) : NaN;
    rows.push({
      figure:
        `${v === 'plan' ? 'plan' : 'status'} (live), ${FANOUT} hosts, concurrency ${FANOUT_CONCURRENCY}; peak RSS ` +
        `${(rss.max / 2 ** 20).toFixed(0)} MB (${(perConn / 1024).toFixed(0)} KB per connection), nokube CPU ` +
        `${fmtS(stat(F[`fan_${v}_cpuMs`]).median)} s; per node: connect ${fmtS(median(F[`fan_${v}_connectMs`]))} s, ` +
        `remote_lib ${fmtS(median(F[`fan_${v}_remoteMs`]))} s`,
      nokube: a,
      baseline: base,
      baselineName: `OpenSSH \`ssh host python3 -c pass\` ×${FANOUT}, ${FANOUT_CONCURRENCY} at once`,
      ratio: base ? a.median / base.median : undefined,
      target: '≤ 10 s, < 300 MB, all reached',
      ok: a.median <= 10_000 && rss.max < 300 * 2 ** 20,
    });
  }
  if (F.fan_one_ms) {
    rows.push({
      figure: `plan (live), 1 host: the fixed cost (peak RSS ${(stat(F.fan_one_rss).max / 2 ** 20).toFixed(0)} MB)`,
      nokube: stat(F.fan_one_ms),
      target: '–',
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// statistics and the table

const stat = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
};
const fmtS = (ms) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(2)}`);
const fmt3 = (st) => (st ? `${fmtS(st.median)} (${fmtS(st.min)}–${fmtS(st.max)})` : '–');

const restarts = (xs) =>
  xs.every(Boolean) ? 'yes' : xs.some(Boolean) ? `${xs.filter(Boolean).length}/${xs.length}` : 'no';
const lingerText = (xs = []) => {
  const got = xs.filter((x) => x !== null);
  const over = xs.length - got.length;
  const s = got.length ? fmt3(stat(got)) : '';
  return over ? `${s}${s ? '; ' : ''}> ${LINGER_MS / 1000} s in ${over}/${xs.length}` : s || '–';
};

function table(rows) {
  const head = [
    'figure',
    'nokube s: median (min–max)',
    'baseline s: median (min–max)',
    'ratio',
    'ray up s',
    'target',
    'ok',
  ];
  const body = rows.map((r) => [
    r.figure,
    fmt3(r.nokube),
    r.baseline ? `${fmt3(r.baseline)} ${r.baselineName}` : '–',
    r.ratioText ?? (r.ratio === undefined ? '–' : `${r.ratio.toFixed(2)}×`),
    r.rayUp ?? '–',
    r.target,
    r.ok === undefined ? '–' : r.ok ? 'yes' : 'NO',
  ]);
  const md = [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...body.map((b) => `| ${b.join(' | ')} |`),
  ];
  return md.join('\n');
}

/** Ray's own launcher in detail: one column per cluster size. */
function rayUpTable(F) {
  const sizes = SIZES.filter((n) => F[`rayUp_returned${n}`] || F[`rayUpError${n}`]);
  if (!sizes.length) return '';
  const cell = (n, k) => (F[`rayUp_${k}${n}`] ? fmt3(stat(F[`rayUp_${k}${n}`])) : '–');
  const lines = [
    [
      `\`ray up\`, local provider, autoscaler ${AUTOSCALER_V2 ? 'v2' : 'v1'}: s, median (min–max)`,
      ...sizes.map((n) => `${n} nodes`),
    ],
    ['cold `ray up -y`: until it returns', ...sizes.map((n) => cell(n, 'returned'))],
    ['cold `ray up -y`: until all nodes alive in the head', ...sizes.map((n) => cell(n, 'alive'))],
    ['`ray up -y` again, running cluster: until it returns', ...sizes.map((n) => cell(n, 'againReturned'))],
    ['`ray up -y` again: until all nodes alive again', ...sizes.map((n) => cell(n, 'againAlive'))],
    [
      '`ray up -y` again restarted Ray (new node IDs)',
      ...sizes.map((n) => (F[`rayUp_restarted${n}`] ? restarts(F[`rayUp_restarted${n}`]) : '–')),
    ],
    ['`ray down -y`: until it returns', ...sizes.map((n) => cell(n, 'down'))],
    ['worker raylets still running after `ray down` for', ...sizes.map((n) => lingerText(F[`rayUp_linger${n}`]))],
    ['rounds completed', ...sizes.map((n) => String(F[`rayUp_alive${n}`]?.length ?? 0))],
    [
      'error',
      ...sizes.map((n) => (F[`rayUpError${n}`] ? F[`rayUpError${n}`][0].replace(/\s+/g, ' ').slice(0, 120) : '–')),
    ],
  ];
  const md = lines.map((l) => `| ${l.join(' | ')} |`);
  md.splice(1, 0, `| ${lines[0].map(() => '---').join(' | ')} |`);
  return md.join('\n');
}

// ---------------------------------------------------------------------------------------------
// the benchmark

// ---------------------------------------------------------------------------------------------
// config figures: validate a big config in the CLI and in the Action (issue 12: 1,000 nodes < 1 s;
// 5 MB < 10 s and < 300 MB in both)

/** `nodes` workers sharing settings through a merge key, each with its own user and storage. */
function bigConfig(nodes) {
  const lines = [
    '# yaml-language-server: $schema=../schema/ray-config.schema.json',
    'ray_spec: {cluster_name: big, max_workers: 100000}',
    'x-worker: &worker',
    '  role: worker',
    '  ray_config: {num_cpus: 4, object_store_memory: 1000000000, labels: {zone: eu-west-1a}}',
    'nodes:',
    '  - ssh_url: "10.0.0.1:22"',
    '    name: ray-head',
    '    role: head',
    '    ray_config: {port: 10001, num_cpus: 8}',
    '    users: [{userid: deploy, password: "${RAY_PASSWORD}"}]',
  ];
  for (let i = 1; i < nodes; i++) {
    lines.push(
      '  - <<: *worker',
      `    ssh_url: "10.${1 + ((i >> 16) & 255)}.${(i >> 8) & 255}.${i & 255}:22"`,
      `    name: ray-worker-${i}`,
      `    storage: {type: local, path: /opt/nokube/data/ray/worker-${i}}`,
      '    users:',
      '      - userid: deploy',
      '        password: "${RAY_PASSWORD}"',
      `    host_key: "SHA256:${'A'.repeat(43)}"`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Peak resident memory in MB from `/usr/bin/time -v` output. */
const peakMb = (stderr) => Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? NaN) / 1024;

async function validateCli(file) {
  const r = await run(['/usr/bin/time', '-v', process.execPath, CLI, 'ray', 'validate', '--config', file, '--json'], {
    env: { ...process.env, RAY_PASSWORD: 'bench' },
    timeoutMs: 900_000,
  });
  return { ...r, ok: r.code === 0 && parseJson(r)?.status !== undefined, mb: peakMb(r.stderr) };
}

async function validateAction(file) {
  const dir = dirname(file);
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? '/root',
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: join(dir, 'action-output'),
    GITHUB_STEP_SUMMARY: join(dir, 'action-summary.md'),
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
    GITHUB_REPOSITORY: 'acme/cluster',
    GITHUB_WORKSPACE: dir,
    GITHUB_SHA: 'f00dfacecafebabe0123456789abcdef01234567',
    GITHUB_RUN_ID: '1',
    GITHUB_API_URL: 'http://127.0.0.1:9',
    INPUT_COMMAND: 'validate',
    INPUT_CONFIG: file.slice(dir.length + 1),
    RAY_PASSWORD: 'bench',
  };
  writeFileSync(env.GITHUB_EVENT_PATH, '{}');
  for (const f of [env.GITHUB_OUTPUT, env.GITHUB_STEP_SUMMARY]) writeFileSync(f, '');
  const r = await run(['/usr/bin/time', '-v', process.execPath, ACTION], { env, timeoutMs: 900_000 });
  const outputs = readFileSync(env.GITHUB_OUTPUT, 'utf8');
  return { ...r, ok: r.code === 0 && /status/.test(outputs), mb: peakMb(r.stderr) };
}

async function validateFigures(results) {
  const dir = join(process.env.NOKUBE_BENCH_VALIDATE_DIR || join(STATE, 'bench'), 'validate');
  mkdirSync(dir, { recursive: true });
  const rows = [];
  // ~5 MB: each worker is about 300 bytes
  for (const [label, nodes, target] of [
    ['1,000 nodes', 1000, { s: 1, mb: undefined }],
    ['5 MB', 17_000, { s: 10, mb: 300 }],
  ]) {
    const file = join(dir, `big-${nodes}.yaml`);
    writeFileSync(file, bigConfig(nodes));
    const size = readFileSync(file).length;
    const cli = [];
    const action = [];
    for (let round = 0; round < ROUNDS; round++) {
      // alternate which goes first
      const pair = round % 2 === 0 ? [validateCli, validateAction] : [validateAction, validateCli];
      for (const f of pair) {
        const r = await f(file);
        if (!r.ok)
          throw new Error(`validate ${label} (${f.name}) failed: ${r.stdout.slice(-1500)}${r.stderr.slice(-1500)}`);
        (f === validateCli ? cli : action).push(r);
      }
      log(
        `validate ${label}, round ${round + 1}: CLI ${fmtS(cli.at(-1).ms)} s ${cli.at(-1).mb.toFixed(0)} MB, Action ${fmtS(action.at(-1).ms)} s ${action.at(-1).mb.toFixed(0)} MB`,
      );
    }
    const cliSt = stat(cli.map((r) => r.ms));
    const actionSt = stat(action.map((r) => r.ms));
    const cliMb = Math.max(...cli.map((r) => r.mb));
    const actionMb = Math.max(...action.map((r) => r.mb));
    results.figures[`validate_${nodes}`] = {
      size,
      cli: cli.map((r) => r.ms),
      action: action.map((r) => r.ms),
      cliMb,
      actionMb,
    };
    // each figure beside its own target and verdict: a time and a peak memory, for each front end
    const okS = (st) => (st.median < target.s * 1000 ? 'yes' : 'NO');
    const okMb = (mb) => (target.mb === undefined ? '–' : mb < target.mb ? 'yes' : 'NO');
    const what = `validate ${label} (${(size / 1e6).toFixed(1)} MB, ${nodes} nodes)`;
    for (const [front, st, mb] of [
      ['CLI', cliSt, cliMb],
      ['Action', actionSt, actionMb],
    ])
      rows.push(
        `| ${what} | ${front} | ${fmt3(st)} | < ${target.s} s | ${okS(st)} | ${mb.toFixed(0)} | ${target.mb ? `< ${target.mb} MB` : 'none'} | ${okMb(mb)} |`,
      );
  }
  return [
    '| figure | front end | s: median (min–max) | target | ok | peak MB | target | ok |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/**
 * A cluster measured healthy only (NOKUBE_BENCH_HEALTHY_SIZES): one untimed start, then ROUNDS no-op
 * starts and statuses of it, then a stop. Ray's own start of that many nodes on the bench's 2 cores is
 * the trouble: 16 raylets registering at once overload the head's GCS, and they give up after Ray's
 * own ≈ 45 s. So the untimed start goes 4 workers at a time (--concurrency 4), may take up to 600 s
 * per node, and is tried twice; when it still fails, the figure is reported as not measured (the
 * rest of the bench goes on).
 */
async function healthyFigures(n, ips, add) {
  const name = `bench${n}`;
  const cfg = join(WORK, `${name}.yaml`);
  writeFileSync(cfg, nokubeConfig(name, n, ips));
  must(await nokube(['stop'], cfg), 'warm-up stop');
  log(`${n} nodes (healthy figures only): starting (untimed, 4 workers at a time)`);
  let s;
  for (let attempt = 1; attempt <= 2; attempt++) {
    s = await nokube(['start'], cfg, ['--timeout', '600', '--concurrency', '4'], { timeoutMs: 1_500_000 });
    if (s.code === 0 && parseJson(s)?.status === 'healthy') break;
    const failed = (parseJson(s)?.errors ?? []).map((e) => `${e.node}: ${e.message}`);
    log(`  start ${attempt}/2 of ${n} nodes did not end healthy (exit ${s.code}): ${failed.slice(0, 3).join('; ')}`);
    if (attempt === 2) {
      add(`healthyError${n}`, `${failed.length} node(s) failed to start, e.g. ${failed[0] ?? `exit ${s.code}`}`);
      must(await nokube(['stop'], cfg), `nokube stop of ${n} nodes`);
      return;
    }
  }
  log(`  started in ${fmtS(s.ms)} s`);
  for (let round = 0; round < ROUNDS; round++) {
    const k = await nokube(['start'], cfg);
    if (k.code !== 0 || parseJson(k)?.changes !== 0) throw new Error(`nokube keep start: ${k.stdout.slice(-2000)}`);
    add(`keep${n}`, k.ms);
    const st = await nokube(['status'], cfg);
    if (st.code !== 0 || parseJson(st)?.status !== 'healthy')
      throw new Error(`nokube status: ${st.stdout.slice(-2000)}`);
    add(`status${n}`, st.ms);
    log(`  ${n} nodes, round ${round + 1}/${ROUNDS}: keep ${fmtS(k.ms)} s, status ${fmtS(st.ms)} s`);
  }
  must(await nokube(['stop'], cfg), `nokube stop of ${n} nodes`);
}

async function main() {
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').trim();
  if (ONLY.has('validate')) {
    if (!existsSync(CLI) || !existsSync(ACTION))
      throw new Error(`${CLI} or ${ACTION} is missing: run node scripts/bundle.mjs first`);
    if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing (apt-get install time)');
    const results = { rounds: ROUNDS, figures: {} };
    const md = await validateFigures(results);
    process.stdout.write(
      `\n${md}\n\nload average before: ${loadBefore}; after: ${readFileSync('/proc/loadavg', 'utf8').trim()}\n`,
    );
    if (ONLY.size === 1) return md.includes('| NO |') ? false : true;
  }
  if (process.getuid?.() !== 0) throw new Error('npm run bench needs root (test hosts are namespaces)');
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run node scripts/bundle.mjs first`);
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing (apt-get install time)');
  if (RAY_UP && ONLY.has('rayup') && runSync(['sh', '-c', 'command -v rsync']).code !== 0) {
    // Ray's local provider copies its bootstrap config to the head with rsync (both ends)
    log('installing rsync (needed by `ray up`)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (runSync(['apt-get', 'install', '-y', '-qq', 'rsync'], { env, timeoutMs: 300_000 }).code !== 0) {
      runSync(['apt-get', 'update', '-qq'], { env, timeoutMs: 300_000 });
      must(runSync(['apt-get', 'install', '-y', '-qq', 'rsync'], { env, timeoutMs: 300_000 }), 'apt-get install rsync');
    }
  }
  poolTouched = true;
  const info = poolUp();
  hosts = info.hosts;
  client = info.client;
  const ips = hosts.map((h) => h.ip);
  mkdirSync(WORK, { recursive: true });

  // the baseline's token: the same token auth nokube turns on, one file per host (untimed setup)
  benchToken = (await run(['openssl', 'rand', '-hex', '32'])).stdout.trim();
  await Promise.all(
    Array.from({ length: RAY_HOSTS }, (_, i) =>
      run(
        [
          TESTHOSTS,
          'exec',
          hostName(i),
          '--user',
          'nokube',
          '--',
          'bash',
          '-c',
          `umask 077; cat > "$HOME/${TOKEN_FILE}"`,
        ],
        {
          env: POOL_ENV,
          input: benchToken,
        },
      ),
    ),
  );
  await killRay(RAY_HOSTS);

  const results = { rounds: ROUNDS, figures: {} };
  const add = (key, v) => (results.figures[key] ??= []).push(v);

  for (const n of SIZED ? SIZES : []) {
    const name = `bench${n}`;
    const cfg = join(WORK, `${name}.yaml`);
    writeFileSync(cfg, nokubeConfig(name, n, ips));
    // untimed warm-up: uploads remote_lib once (as after a first deploy) and warms the page cache
    must(await nokube(['stop'], cfg), 'warm-up stop');
    for (let round = 0; round < ROUNDS; round++) {
      log(`${n} nodes, round ${round + 1}/${ROUNDS}`);
      const nokubeFirst = round % 2 === 0;
      const doNokube = async () => {
        if (ONLY.has('cold') || ONLY.has('keep') || ONLY.has('status') || ONLY.has('stop')) {
          let s = await nokube(['start'], cfg, ['--timeline']);
          if (s.code !== 0 && registrationTimeout(s.stdout + s.stderr)) {
            // Ray's own 30 s for a raylet to register (not configurable) ran out on the loaded
            // cores: once more, from scratch, and the retry is kept in the results
            add(`coldRetry${n}`, 'nokube');
            log(`  nokube cold start: a raylet did not register within Ray's 30 s; stopping and trying again`);
            await nokube(['stop'], cfg);
            await killRay(n);
            s = await nokube(['start'], cfg, ['--timeline']);
          }
          const j = parseJson(s);
          if (s.code !== 0 || j?.status !== 'healthy')
            throw new Error(`nokube start: ${s.stdout.slice(-2000)}${s.stderr.slice(-2000)}`);
          add(`cold${n}`, s.ms);
          const split = splitOfTimeline(j, `${name}-n1`);
          if (Number.isFinite(split.ray + split.wait)) {
            add(`coldOwn${n}`, s.ms - split.ray - split.wait);
            add(`coldWait${n}`, split.wait);
          }
          log(
            `  nokube cold start ${fmtS(s.ms)} s (Ray's own ray start ${fmtS(split.ray)} s, then ${fmtS(split.wait)} s until all alive)`,
          );
          const k = await nokube(['start'], cfg);
          if (k.code !== 0 || parseJson(k)?.changes !== 0)
            throw new Error(`nokube keep start: ${k.stdout.slice(-2000)}`);
          add(`keep${n}`, k.ms);
          const st = await nokube(['status'], cfg);
          if (st.code !== 0 || parseJson(st)?.status !== 'healthy')
            throw new Error(`nokube status: ${st.stdout.slice(-2000)}`);
          add(`status${n}`, st.ms);
          const sp = await nokube(['stop'], cfg);
          if (sp.code !== 0 || parseJson(sp)?.status !== 'stopped')
            throw new Error(`nokube stop: ${sp.stdout.slice(-2000)}`);
          add(`stop${n}`, sp.ms);
          log(`  nokube keep ${fmtS(k.ms)} s, status ${fmtS(st.ms)} s, stop ${fmtS(sp.ms)} s`);
        }
      };
      const doPlain = async () => {
        if (!ONLY.has('cold') && !ONLY.has('stop')) return;
        let s;
        try {
          s = await plainStartTimed(n, ips);
        } catch (err) {
          // the same once-more as nokube's (a worker's `ray start` gave up, or the nodes never all joined)
          add(`coldRetry${n}`, 'plain');
          log(`  plain ssh start failed (${String(err.message).slice(0, 120)}); stopping and trying again`);
          await plainStop(n, ips).catch(() => undefined);
          await killRay(n);
          s = await plainStartTimed(n, ips);
        }
        add(`plainStart${n}`, s.ms);
        if (Number.isFinite(s.ray)) {
          add(`plainOwn${n}`, s.ms - s.ray - s.wait);
          add(`plainWait${n}`, s.wait);
        }
        const sp = await plainStop(n, ips);
        add(`plainStop${n}`, sp);
        log(
          `  plain ssh start ${fmtS(s.ms)} s (Ray's own ray start ${fmtS(s.ray)} s, then ${fmtS(s.wait)} s until all alive), stop ${fmtS(sp)} s`,
        );
      };
      if (nokubeFirst) {
        await doNokube();
        await doPlain();
      } else {
        await doPlain();
        await doNokube();
      }
      await killRay(n); // nothing may linger into the next round (both sides stopped already)
    }
    if (RAY_UP && ONLY.has('rayup')) {
      await rayUpBashrc(n, true);
      for (let round = 0; round < ROUNDS; round++) {
        log(`${n} nodes, ray up round ${round + 1}/${ROUNDS}`);
        const r = await rayUp(n, ips);
        await killRay(n); // `ray down` leaves raylets behind for a while: never into the next round
        for (const k of ['returned', 'alive', 'againReturned', 'againAlive', 'down'])
          if (r[k] !== undefined) add(`rayUp_${k}${n}`, r[k]);
        if (r.restarted !== undefined) add(`rayUp_restarted${n}`, r.restarted);
        if ('linger' in r) add(`rayUp_linger${n}`, r.linger);
        if (r.diag) add(`rayUpDiag${n}`, r.diag);
        if (r.error) {
          log(`  ray up: ${r.error}`);
          add(`rayUpError${n}`, r.error);
          break;
        }
        log(
          `  ray up returned ${fmtS(r.returned)} s, all alive ${fmtS(r.alive)} s; again: returned ${fmtS(r.againReturned)} s, ` +
            `alive ${fmtS(r.againAlive)} s, restarted ${r.restarted}; ray down ${fmtS(r.down)} s, ` +
            `worker raylets gone ${r.linger === null ? `> ${LINGER_MS / 1000}` : fmtS(r.linger)} s after it`,
        );
      }
      await rayUpBashrc(n, false);
    }
  }

  if (ROLLING) await rollingBench(ROLLING_NODES, ips, results, add);
  if (ONLY.has('envinstall')) await envInstallBench(ENV_NODES, ips, add);

  for (const n of HEALTHY_SIZES) {
    if (!ONLY.has('keep') && !ONLY.has('status')) break;
    await healthyFigures(n, ips, add);
    await killRay(n);
  }
  // A start through a bastion (--proxy-jump, one shared connection to it) next to the same start direct.
  if (ONLY.has('jump') && SIZES.length) {
    const n = SIZES[0];
    const bastion = `nk${POOL}jump`;
    must(
      runSync([TESTHOSTS, 'add', bastion, '--no-ray'], { env: POOL_ENV, timeoutMs: 300_000 }),
      'testhosts add bastion',
    );
    const facts = JSON.parse(readFileSync(join(STATE, 'hosts.json'), 'utf8'));
    const via = ['--proxy-jump', `${client.user}@${facts.hosts.find((h) => h.name === bastion).ip}`];
    const cfg = join(WORK, `jump${n}.yaml`);
    writeFileSync(cfg, nokubeConfig(`jump${n}`, n, ips));
    must(await nokube(['stop'], cfg), 'warm-up stop');
    const once = async (key, extra) => {
      const s = await nokube(['start'], cfg, extra);
      if (s.code !== 0 || parseJson(s)?.status !== 'healthy')
        throw new Error(`nokube start (${key}): ${s.stdout.slice(-2000)}${s.stderr.slice(-2000)}`);
      add(key, s.ms);
      must(await nokube(['stop'], cfg, extra), `stop (${key})`);
      await killRay(n); // the other side starts on clean hosts
      return s.ms;
    };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ['jumpVia', 'jumpDirect'] : ['jumpDirect', 'jumpVia'];
      const ms = {};
      for (const key of order) ms[key] = await once(key, key === 'jumpVia' ? via : []);
      log(`  ${n} nodes: start through a bastion ${fmtS(ms.jumpVia)} s, direct ${fmtS(ms.jumpDirect)} s`);
    }
  }

  if (FANOUT > 0 && (ONLY.has('plan') || ONLY.has('fanstatus'))) await fanOutBench(ips, add);
  if (ONLY.has('netcheck')) await netCheckBench(ips, add);
  if (ONLY.has('supervision')) {
    const ctx = { run, must, log, sleep, nokube, parseJson, fmtS, TESTHOSTS, POOL_ENV, POOL, STATE, WORK };
    await supervisionBench({ ...ctx, onCleanup: (f) => cleanupHooks.push(f) }, add);
  }

  // ---- the table
  const F = results.figures;
  const rows = [];
  for (const n of NET_SIZES) {
    if (!F[`netcheck${n}`]) continue;
    rows.push({
      figure: `network check before start, ${n} nodes (${F[`netcheckPairs${n}`][0]} pairs, ${F[`netcheckPorts${n}`][0]} connects)`,
      nokube: stat(F[`netcheck${n}`]),
      target: '–',
      ok: undefined,
    });
  }
  for (const n of [...SIZES, ...HEALTHY_SIZES]) {
    if (F[`cold${n}`] && F[`plainStart${n}`]) {
      const a = stat(F[`cold${n}`]);
      const b = stat(F[`plainStart${n}`]);
      const up = F[`rayUp_alive${n}`] ? stat(F[`rayUp_alive${n}`]) : undefined;
      rows.push({
        figure: `cold start, ${n} nodes (until all alive)`,
        nokube: a,
        baseline: b,
        baselineName: 'plain ssh',
        ratio: a.median / b.median,
        rayUp: up
          ? `${fmt3(up)} (returns ${fmtS(stat(F[`rayUp_returned${n}`]).median)})`
          : F[`rayUpError${n}`]
            ? `failed: ${F[`rayUpError${n}`][0].slice(0, 60)}`
            : undefined,
        target: F[`coldRetry${n}`] ? `≤ 1.0× (retried: ${F[`coldRetry${n}`].join(', ')})` : '≤ 1.0×',
        ok: a.median / b.median <= 1.0,
      });
    }
    // the same runs split: Ray's own `ray start` (head + slowest worker, timed on the nodes) moves by
    // seconds between runs; what each tool adds around it, and the wait for the head's view after it
    for (const [key, what] of [
      ['Own', "the tool's own part (without Ray's `ray start` and the wait)"],
      ['Wait', 'from the last `ray start` until all alive'],
    ]) {
      if (!F[`cold${key}${n}`] || !F[`plain${key}${n}`]) continue;
      const a = stat(F[`cold${key}${n}`]);
      const b = stat(F[`plain${key}${n}`]);
      rows.push({
        figure: `cold start, ${n} nodes: ${what}`,
        nokube: a,
        baseline: b,
        baselineName: 'plain ssh',
        ratio: a.median / b.median,
        target: '–',
        ok: undefined,
      });
    }
    if (F[`healthyError${n}`]) {
      rows.push({
        figure: `start on a healthy cluster and status, ${n} nodes`,
        nokube: undefined,
        target: `not measured: the cluster did not start on these cores (${F[`healthyError${n}`][0].slice(0, 120)})`,
        ok: false,
      });
    }
    if (F[`keep${n}`]) {
      const a = stat(F[`keep${n}`]);
      const lim = noOpLimitMs(n);
      rows.push({
        figure: `start on a healthy cluster, ${n} nodes`,
        nokube: a,
        rayUp: F[`rayUp_againAlive${n}`]
          ? `${fmt3(stat(F[`rayUp_againAlive${n}`]))} (restarts: ${restarts(F[`rayUp_restarted${n}`])})`
          : undefined,
        target: lim ? `≤ ${lim / 1000} s` : '–',
        ok: lim ? a.median <= lim : undefined,
      });
    }
    if (F[`status${n}`]) {
      const a = stat(F[`status${n}`]);
      rows.push({
        figure: `status, ${n} nodes`,
        nokube: a,
        target: noOpLimitMs(n) ? `≤ ${noOpLimitMs(n) / 1000} s` : '–',
        ok: noOpLimitMs(n) ? a.median <= noOpLimitMs(n) : undefined,
      });
    }
    if (F[`stop${n}`] && F[`plainStop${n}`]) {
      const a = stat(F[`stop${n}`]);
      const b = stat(F[`plainStop${n}`]);
      rows.push({
        figure: `stop (verified), ${n} nodes`,
        nokube: a,
        baseline: b,
        baselineName: 'plain ray stop',
        ratio: a.median / b.median,
        rayUp: F[`rayUp_down${n}`]
          ? `ray down ${fmt3(stat(F[`rayUp_down${n}`]))}; worker raylets gone ${lingerText(F[`rayUp_linger${n}`])} later`
          : undefined,
        target: '≤ 1.3×',
        ok: a.median / b.median <= 1.3,
      });
    }
  }
  if (F.jumpVia && F.jumpDirect) {
    const a = stat(F.jumpVia);
    const b = stat(F.jumpDirect);
    rows.push({
      figure: `cold start through a bastion (--proxy-jump), ${SIZES[0]} nodes`,
      nokube: a,
      baseline: b,
      baselineName: 'direct',
      ratio: a.median / b.median,
      target: '–',
    });
  }
  if (F[`rolling${ROLLING_NODES}`] && F[`plainRestart${ROLLING_NODES}`]) {
    const a = stat(F[`rolling${ROLLING_NODES}`]);
    const b = stat(F[`plainRestart${ROLLING_NODES}`]);
    rows.push({
      figure: `rolling change of 1 worker of ${ROLLING_NODES} nodes (num_cpus 1 → 2: drained, restarted, until alive again)`,
      nokube: a,
      baseline: b,
      baselineName: 'plain ssh ray stop + ray start',
      ratio: a.median / b.median,
      target: '–',
    });
  }
  if (F[`noopInstall${ROLLING_NODES}`] && F[`noopKeep${ROLLING_NODES}`]) {
    const a = stat(F[`noopInstall${ROLLING_NODES}`]);
    const b = stat(F[`noopKeep${ROLLING_NODES}`]);
    rows.push({
      figure: `start with ray_spec.install, nothing to install, ${ROLLING_NODES} nodes (${NOOP_PAIRS} pairs per round)`,
      nokube: a,
      baseline: b,
      baselineName: 'no-op start without install',
      ratio: a.median / b.median,
      target: '≤ 1.1×',
      ok: a.median / b.median <= 1.1,
    });
  }
  if (F[`envNokube${ENV_NODES}`] && F[`envPlain${ENV_NODES}`]) {
    const a = stat(F[`envNokube${ENV_NODES}`]);
    const b = stat(F[`envPlain${ENV_NODES}`]);
    const byRound = stat(F[`envRatio${ENV_NODES}`]);
    rows.push({
      figure:
        `install of Ray 2.59.0 + ${ENV_PACKAGES.length} packages into a fresh venv, ${ENV_NODES} nodes, local index, no cache, ` +
        `${a.n} rounds (nokube: its slowest node's install phase; whole start ${fmt3(stat(F[`envNokubeStart${ENV_NODES}`]))} s)`,
      nokube: a,
      baseline: b,
      baselineName: 'plain ssh + venv + pip install',
      ratio: a.median / b.median,
      ratioText: `${(a.median / b.median).toFixed(2)}× (by round: ${byRound.median.toFixed(2)}×, ${byRound.min.toFixed(2)}–${byRound.max.toFixed(2)}×)`,
      target: '< 1×',
      ok: a.median / b.median < 1,
    });
  }
  rows.push(...fanOutRows(F));
  const ray = runSync([`${VENV}/bin/ray`, '--version']).stdout.trim();
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${release()}, Node ${process.version}, ${ray}, test hosts' sshd UsePAM ${POOL_ENV.NOKUBE_TESTHOSTS_PAM}`;
  const upTable = rayUpTable(F);
  const sup = supervisionTable(F, { stat, fmtS, noOpLimitMs });
  const text = `${rows.length ? `${table(rows)}\n\n` : ''}${upTable ? `${upTable}\n\n` : ''}${sup ? `${sup.md}\n\n` : ''}${rows.length ? `${ROUNDS} rounds per figure; ` : ''}${machine}; load average at the start: ${loadBefore}; at the end: ${readFileSync('/proc/loadavg', 'utf8').trim()}`;
  process.stdout.write(`\n${text}\n`);
  results.rows = rows;
  if (sup) results.supervision = sup.rows;
  results.machine = machine;
  const out = process.env.NOKUBE_BENCH_OUT || join(WORK, 'bench-results.json');
  writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  log(`results: ${out}`);
  return rows.every((r) => r.ok !== false) && (sup?.ok ?? true);
}

let code = 1;
try {
  code = (await main()) ? 0 : 1;
} catch (err) {
  log(`FAILED: ${err.stack ?? err}`);
  code = 2;
} finally {
  await cleanup(code === 0 ? 'done' : code === 1 ? 'done, a target was missed' : 'after failure');
}
process.exit(code);
