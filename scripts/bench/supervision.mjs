// The `supervision` part of `npm run bench` (issue 21, self-healing): how fast a supervised cluster
// heals itself, on a cluster of three test hosts of its own (head + 2 workers, each with cron, so the
// supervisors come back after a reboot through their @reboot line) and a Redis test host:
//   - kill -9 of a worker's raylet        → that node alive again in the head's node table
//   - `testhosts.sh reboot` of a worker   → that node alive again in the head's node table
//   - kill -9 of the head's gcs_server    → `nokube ray status` healthy, without and with Redis
//                                           (ray_spec.gcs_fault_tolerance)
//   - the no-op `start` of the supervised cluster beside the same cluster with `restart: never`,
//     both running on the same hosts, in alternating order.
// "The head's node table" is Ray's state API as the head's dashboard serves it (/api/v0/nodes, with
// the cluster's token): what `nokube ray status` reads and what an operator sees in the dashboard.
// A node is alive again when a row at its address is ALIVE with another node id than before the death
// (the dead one may stay ALIVE there for Ray's health-check window). The raylet and reboot rounds also
// time the first `nokube ray status --json` that returns healthy.
//
// Every death is an isolated one: before each round every node of the cluster has been up for the
// supervisor's STABLE_SEC (60 s), so each round meets the supervisor's first backoff (1 s), as a single
// OOM kill would; deaths closer together meet its growing backoff by design (and a crash loop gives up).
//
// Every wait has a deadline; a round that misses its deadline is counted as missed, the cluster is
// deployed again (untimed) and the part goes on. Ray is only ever stopped inside the part's test
// hosts, which are removed at the end (and on Ctrl-C / failure, through the bench's cleanup).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const num = (name, dflt, min) => Math.max(min, Number(process.env[name] || dflt));
export const SUPERVISION_ROUNDS = {
  raylet: num('NOKUBE_BENCH_SUP_KILLS', 5, 1),
  reboot: num('NOKUBE_BENCH_SUP_REBOOTS', 3, 1),
  head: num('NOKUBE_BENCH_SUP_HEAD_KILLS', 3, 1),
  noop: num('NOKUBE_BENCH_SUP_NOOPS', 5, 1),
};

/** The issue's bounds (ms) on these test hosts. */
const BOUND = { raylet: 15_000, reboot: 60_000, head: 90_000 };
/** Deadlines of the waits (ms): past one, the round is counted as missed. */
const DEADLINE = { raylet: 60_000, reboot: 180_000, head: 240_000, healthy: 180_000, stable: 300_000 };
/** The supervisor's STABLE_SEC (remote_lib supervise.py) plus a margin: a death after it gets the first backoff. */
const STABLE_MS = 62_000;
const REDIS_PASSWORD = 'nokube-bench-rds-7719';
const REDIS_ENV = 'NOKUBE_BENCH_REDIS_PW';
const DASH_PORT = 8265;
const OTHER_DASH_PORT = 8365;

/**
 * Runs the part; figures go through `add` (keys sup*). ctx: the bench's helpers
 * ({run, must, log, sleep, nokube, parseJson, fmtS, TESTHOSTS, POOL_ENV, POOL, STATE, WORK, onCleanup}).
 */
export async function supervisionBench(ctx, add) {
  const { run, must, log, sleep, nokube, parseJson, fmtS, TESTHOSTS, POOL_ENV, POOL, STATE, WORK } = ctx;
  const R = SUPERVISION_ROUNDS;
  const head = `nk${POOL}sh`;
  const workers = [`nk${POOL}s1`, `nk${POOL}s2`];
  const redisHost = `nk${POOL}sr`;
  const ours = [head, ...workers, redisHost];
  const th = (args, timeoutMs = 300_000) => run([TESTHOSTS, ...args], { env: POOL_ENV, timeoutMs });
  const exec = (host, line, user = 'nokube', timeoutMs = 60_000) =>
    th(['exec', host, '--user', user, '--', 'bash', '-c', line], timeoutMs);

  /** Inside our hosts only: supervisors first (they would start Ray again), then every Ray process. */
  const killAll = () =>
    Promise.all(
      [head, ...workers].map((h) =>
        exec(
          h,
          "pkill -KILL -u nokube -f supervise- ; pkill -KILL -u nokube -f 'ray|raylet|gcs_server|default_worker'; crontab -r 2>/dev/null; true",
          'nokube',
          30_000,
        ),
      ),
    );
  let removed = false;
  const removeHosts = async () => {
    if (removed) return;
    removed = true;
    await killAll();
    for (const h of ours) await th(['rm', h], 120_000);
  };
  ctx.onCleanup(removeHosts);

  try {
    log(`supervision: adding test hosts ${ours.join(', ')}`);
    for (const h of ours) await th(['rm', h], 120_000); // a host of an earlier run that was interrupted
    for (const h of [head, ...workers]) must(await th(['add', h, '--cron']), `testhosts add ${h} --cron`);
    must(await th(['add', redisHost, '--redis', '--redis-password', REDIS_PASSWORD]), `testhosts add ${redisHost}`);
    const facts = JSON.parse(readFileSync(join(STATE, 'hosts.json'), 'utf8'));
    const ipOf = (h) => facts.hosts.find((x) => x.name === h).ip;
    const env = { ...process.env, [REDIS_ENV]: REDIS_PASSWORD };

    // ---- clusters
    const cluster = (name, { restart = 'always', redis = false, other = false } = {}) => {
      const storage = `/opt/nokube/data/${name}`;
      const nodes = [head, ...workers].map((h, i) => ({ h, name: i ? `${name}-w${i}` : `${name}-head`, i }));
      const lines = [
        'ray_spec:',
        `  cluster_name: ${name}`,
        `  dashboard_port: ${other ? OTHER_DASH_PORT : DASH_PORT}`,
        `  restart: ${restart}`,
        ...(redis
          ? [
              '  gcs_fault_tolerance:',
              `    redis_address: "${ipOf(redisHost)}:6379"`,
              `    redis_password: "\${${REDIS_ENV}}"`,
            ]
          : []),
        'nodes:',
      ];
      for (const n of nodes) {
        lines.push(`  - ssh_url: "${ipOf(n.h)}:22"`, `    name: ${n.name}`, `    role: ${n.i ? 'worker' : 'head'}`);
        lines.push('    ray_config:');
        if (!n.i) lines.push(`      port: ${other ? 10101 : 10001}`, ...(other ? ['      gcs_port: 6479'] : []));
        lines.push('      num_cpus: 1', '      object_store_memory: 100000000');
        lines.push(`    storage: {type: local, path: ${storage}}`);
      }
      const file = join(WORK, `${name}.yaml`);
      writeFileSync(file, lines.join('\n') + '\n');
      return { name, file, storage, nodes, dashPort: other ? OTHER_DASH_PORT : DASH_PORT, token: '' };
    };
    const cli = (verb, c, timeoutMs = 600_000) => nokube([verb], c.file, [], { env, timeoutMs });

    const status = async (c) => {
      const r = await cli('status', c, 90_000);
      return parseJson(r) ?? { status: `exit ${r.code}`, nodes: [], stderr: r.stderr.slice(-500) };
    };
    const healthy = (o) =>
      o.status === 'healthy' && o.nodes.length === 3 && o.nodes.every((n) => n.state === 'running');
    /** Polls status until ok(out) (deadline from `t0`); the ms from t0 to the return of the run that saw it, or null. */
    const untilStatus = async (c, ok, t0, deadlineMs) => {
      let last;
      for (let i = 0; i < 1000 && Date.now() - t0 < deadlineMs; i++) {
        last = await status(c);
        if (ok(last)) return { ms: Date.now() - t0, out: last };
        await sleep(500);
      }
      log(`  status not as expected within ${deadlineMs / 1000} s; last: ${JSON.stringify(last).slice(0, 1500)}`);
      return { ms: null, out: last };
    };

    /** The head's node table: [{id, ip, alive}], or null while it does not answer. */
    const table = async (c) => {
      try {
        const res = await fetch(`http://${ipOf(head)}:${c.dashPort}/api/v0/nodes?detail=true&limit=1000&timeout=2`, {
          headers: { Authorization: `Bearer ${c.token}` },
          signal: AbortSignal.timeout(3000),
        });
        if (!res.ok) return null;
        const d = (await res.json())?.data?.result;
        const rows = Array.isArray(d) ? d : (d?.result ?? []);
        return rows.map((x) => ({ id: x.node_id, ip: x.node_ip, alive: x.state === 'ALIVE' }));
      } catch {
        return null;
      }
    };
    const aliveAt = (rows, ip) => (rows ?? []).filter((x) => x.alive && x.ip === ip).map((x) => x.id);
    /** Polls the table (every 200 ms) until a node at `ip` is alive with an id other than `old`: ms from t0, or null. */
    const untilAliveAgain = async (c, ip, old, t0, deadlineMs) => {
      for (let i = 0; i < 100_000 && Date.now() - t0 < deadlineMs; i++) {
        if (aliveAt(await table(c), ip).some((id) => id !== old)) return Date.now() - t0;
        await sleep(200);
      }
      return null;
    };

    /** Polls the table until ok(rows); the rows, or null at the deadline. */
    const untilTable = async (c, ok, deadlineMs) => {
      const t0 = Date.now();
      for (let i = 0; i < 100_000 && Date.now() - t0 < deadlineMs; i++) {
        const rows = await table(c);
        if (rows && ok(rows)) return rows;
        await sleep(200);
      }
      return null;
    };

    /**
     * Where the time went on node h, from its supervisor's state file (same clock as t0): when the
     * supervisor recorded the restart (the death noticed; after a reboot, cron's @reboot ran it) and
     * how long its `ray start` took. Keys `${key}Noticed` / `${key}RayStart`; a text for the log.
     */
    const split = async (c, h, key, t0) => {
      // the node can be alive in the head's view before its `ray start` returns: wait for this run's record
      let s;
      for (let i = 0; i < 300 && Date.now() - t0 < DEADLINE.healthy + DEADLINE.head; i++) {
        s = parseJson(await exec(h, `cat ${c.storage}/state/supervisor.json`));
        if (s?.state === 'running' && s.started_at * 1000 > t0) break;
        s = undefined;
        await sleep(500);
      }
      const at = s?.last_restart?.at;
      if (!at || !s.ray_start_ms || at * 1000 < t0 - 1000) return '';
      add(`${key}Noticed`, at * 1000 - t0);
      add(`${key}RayStart`, s.ray_start_ms);
      return ` (supervisor: restart recorded at ${fmtS(at * 1000 - t0)} s, its ray start ${fmtS(s.ray_start_ms)} s)`;
    };

    const deploy = async (c) => {
      const r = await cli('start', c);
      const j = parseJson(r);
      if (r.code !== 0 || j?.status !== 'healthy')
        throw new Error(`nokube start of ${c.name}: ${r.stdout.slice(-2000)}${r.stderr.slice(-1500)}`);
      const tok = await exec(head, `cat ${c.storage}/state/auth_token`);
      c.token = tok.stdout.trim();
      if (!c.token) throw new Error(`no auth token in ${c.storage}/state/auth_token on ${head}`);
      return j;
    };

    /** Waits until every node's supervisor has run Ray for STABLE_MS (an isolated death next). */
    const stable = async (c) => {
      const t0 = Date.now();
      for (let i = 0; i < 1000 && Date.now() - t0 < DEADLINE.stable; i++) {
        const ups = await Promise.all(
          c.nodes.map(async (n) => {
            const s = parseJson(await exec(n.h, `cat ${c.storage}/state/supervisor.json`));
            return s?.state === 'running' && s.started_at ? Date.now() - s.started_at * 1000 : -1;
          }),
        );
        const least = Math.min(...ups);
        if (least >= STABLE_MS) return;
        await sleep(least < 0 ? 2000 : Math.min(STABLE_MS - least + 100, 10_000));
      }
      throw new Error(
        `${c.name}: the supervisors did not run Ray for ${STABLE_MS / 1000} s within ${DEADLINE.stable / 1000} s`,
      );
    };

    /** Before a round: healthy and every node up long enough; a cluster that is not is deployed again. */
    const ready = async (c) => {
      const t0 = Date.now();
      if ((await untilStatus(c, healthy, t0, DEADLINE.healthy)).ms === null) {
        log(`  ${c.name} not healthy before a round: deploying it again (untimed)`);
        await deploy(c);
      }
      await stable(c);
    };

    /** kill -9 of the one `proc` of host h; the epoch ms of the kill, printed inside the host. */
    const kill9 = async (h, proc) => {
      const r = await exec(
        h,
        `p=$(pgrep -u nokube -x ${proc}); [ "$(echo $p | wc -w)" = 1 ] || { echo "${proc}: '$p'" >&2; exit 3; }; date +%s%3N; kill -9 $p`,
      );
      must(r, `kill -9 of ${proc} on ${h}`);
      return Number(r.stdout.trim());
    };

    const missed = (key) => add(`supMissed_${key}`, 1);

    // ---- 1: the supervised cluster without Redis
    const a = cluster('supa');
    must(await cli('stop', a), 'warm-up stop'); // uploads remote_lib once, as after a first deploy
    await deploy(a);
    const launchers = (await status(a)).nodes.map((n) => `${n.name}: ${n.supervision?.launcher ?? 'none'}`);
    add('supLaunchers', launchers.join(', '));
    log(`supervision: ${a.name} started; launchers ${launchers.join(', ')}`);

    for (let round = 0; round < R.raylet; round++) {
      const w = a.nodes[1 + (round % 2)];
      await ready(a);
      const ip = ipOf(w.h);
      const old = aliveAt(await table(a), ip)[0];
      const t0 = await kill9(w.h, 'raylet');
      const alive = await untilAliveAgain(a, ip, old, t0, DEADLINE.raylet);
      const st = await untilStatus(a, healthy, t0, DEADLINE.raylet + DEADLINE.healthy);
      if (alive === null) missed('raylet');
      else add('supRaylet', alive);
      if (st.ms !== null) add('supRayletStatus', st.ms);
      const why = await split(a, w.h, 'supRaylet', t0);
      log(
        `  raylet kill ${round + 1}/${R.raylet} (${w.name}): alive again in the head's table ${alive === null ? `not within ${DEADLINE.raylet / 1000} s` : `${fmtS(alive)} s`}, status healthy ${st.ms === null ? 'never' : `${fmtS(st.ms)} s`}${why}`,
      );
    }

    for (let round = 0; round < R.reboot; round++) {
      const w = a.nodes[2 - (round % 2)];
      await ready(a);
      const ip = ipOf(w.h);
      const old = aliveAt(await table(a), ip)[0];
      const t0 = Date.now();
      const boot = th(['reboot', w.h], DEADLINE.reboot);
      const alive = await untilAliveAgain(a, ip, old, t0, DEADLINE.reboot);
      const b = await boot;
      must(b, `testhosts reboot ${w.h}`);
      const st = await untilStatus(a, healthy, t0, DEADLINE.reboot + DEADLINE.healthy);
      if (alive === null) missed('reboot');
      else add('supReboot', alive);
      if (st.ms !== null) add('supRebootStatus', st.ms);
      add('supRebootCmd', b.ms);
      const why = await split(a, w.h, 'supReboot', t0);
      log(
        `  reboot ${round + 1}/${R.reboot} (${w.name}; the reboot itself ${fmtS(b.ms)} s): alive again ${alive === null ? `not within ${DEADLINE.reboot / 1000} s` : `${fmtS(alive)} s`}, status healthy ${st.ms === null ? 'never' : `${fmtS(st.ms)} s`}${why}`,
      );
    }

    /** kill -9 of the head's gcs_server until status is healthy with the head's restart counted; ids before/after. */
    const headRound = async (c, key, round, rounds) => {
      await ready(c);
      const before = await status(c);
      const restarts0 = before.nodes.find((n) => n.name === `${c.name}-head`)?.restarts ?? 0;
      const ids0 = await table(c);
      const t0 = await kill9(head, 'gcs_server');
      const back = (o) => healthy(o) && (o.nodes.find((n) => n.name === `${c.name}-head`)?.restarts ?? 0) > restarts0;
      const st = await untilStatus(c, back, t0, DEADLINE.head);
      // status may have read ray.nodes() while the head's dashboard was still coming back: the table
      // itself, once it lists every node alive again
      const ids1 = await untilTable(c, (rows) => c.nodes.every((n) => aliveAt(rows, ipOf(n.h)).length), 60_000);
      // the workers' node ids, kept or not (GCS fault tolerance keeps them)
      const kept = c.nodes.slice(1).every((n) => {
        const was = aliveAt(ids0, ipOf(n.h))[0];
        return was !== undefined && aliveAt(ids1, ipOf(n.h)).includes(was);
      });
      if (st.ms === null) missed(key);
      else add(key, st.ms);
      add(`${key}Kept`, kept);
      const why = await split(c, head, key, t0);
      // without Redis the workers restart too: when the first worker's supervisor saw its raylet go
      const w = kept ? '' : await split(c, workers[0], `${key}Worker`, t0);
      log(
        `  head kill ${round + 1}/${rounds} (${c.name}): status healthy ${st.ms === null ? `not within ${DEADLINE.head / 1000} s` : `${fmtS(st.ms)} s`}, workers' node ids ${kept ? 'kept' : 'new'}; head${why}${w ? `; worker 1${w}` : ''}`,
      );
    };
    for (let round = 0; round < R.head; round++) await headRound(a, 'supHead', round, R.head);

    // ---- 2: the no-op start beside the same cluster unsupervised (restart: never), both running
    await ready(a);
    const b = cluster('supb', { restart: 'never', other: true });
    must(await cli('stop', b), 'warm-up stop');
    await deploy(b);
    const unsupervised = (await status(b)).nodes.map((n) => n.supervision?.launcher ?? 'none');
    add('supUnsupervised', unsupervised.join(', '));
    const noop = async (c) => {
      const r = await cli('start', c);
      if (r.code !== 0 || parseJson(r)?.changes !== 0)
        throw new Error(`no-op start of ${c.name}: ${r.stdout.slice(-2000)}${r.stderr.slice(-1000)}`);
      return r.ms;
    };
    // untimed: the first look after a cold start meets a head still settling
    await noop(a);
    await noop(b);
    const idsBefore = JSON.stringify(
      ((await table(a)) ?? [])
        .filter((x) => x.alive)
        .map((x) => x.id)
        .sort(),
    );
    // the machine's 1-minute load before the no-op rounds: the two columns move together with it
    add('supNoopLoad', readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
    for (let round = 0; round < R.noop; round++) {
      const ms = {};
      for (const c of round % 2 === 0 ? [a, b] : [b, a]) ms[c.name] = await noop(c);
      add('supNoopOn', ms.supa);
      add('supNoopOff', ms.supb);
      log(`  no-op start ${round + 1}/${R.noop}: supervised ${fmtS(ms.supa)} s, restart: never ${fmtS(ms.supb)} s`);
    }
    const idsAfter = JSON.stringify(
      ((await table(a)) ?? [])
        .filter((x) => x.alive)
        .map((x) => x.id)
        .sort(),
    );
    add('supNoopRestartedNothing', idsBefore === idsAfter && idsBefore !== '[]');
    must(await cli('stop', b), `nokube stop of ${b.name}`);
    must(await cli('stop', a), `nokube stop of ${a.name}`);

    // ---- 3: the head kill with Redis (ray_spec.gcs_fault_tolerance)
    const c = cluster('supc', { redis: true });
    must(await cli('stop', c), 'warm-up stop');
    await deploy(c);
    for (let round = 0; round < R.head; round++) await headRound(c, 'supHeadRedis', round, R.head);
    must(await cli('stop', c), `nokube stop of ${c.name}`);
  } finally {
    await removeHosts();
  }
}

// ---------------------------------------------------------------------------------------------
// the table

/** The part's table (markdown) and its rows for the JSON results; ok false when a bound was missed. */
export function supervisionTable(F, { stat, fmtS, noOpLimitMs }) {
  if (!F.supLaunchers) return undefined;
  const R = SUPERVISION_ROUNDS;
  const missedOf = (key) => (F[`supMissed_${key}`] ?? []).length;
  const kept = (xs = []) => `${xs.filter(Boolean).length}/${xs.length}`;
  const specs = [
    [
      'supRaylet',
      'raylet',
      R.raylet,
      "kill -9 of a worker's raylet → alive again in the head's node table",
      BOUND.raylet,
    ],
    ['supRayletStatus', null, R.raylet, "kill -9 of a worker's raylet → `nokube ray status` healthy", undefined],
    [
      'supReboot',
      'reboot',
      R.reboot,
      "`testhosts.sh reboot` of a worker → alive again in the head's node table",
      BOUND.reboot,
    ],
    ['supRebootStatus', null, R.reboot, '`testhosts.sh reboot` of a worker → `nokube ray status` healthy', undefined],
    [
      'supHead',
      'supHead',
      R.head,
      `kill -9 of the head's gcs_server, no Redis → \`nokube ray status\` healthy (workers' node ids kept: ${kept(F.supHeadKept)})`,
      BOUND.head,
    ],
    [
      'supHeadRedis',
      'supHeadRedis',
      R.head,
      `kill -9 of the head's gcs_server, with Redis (gcs_fault_tolerance) → \`nokube ray status\` healthy (workers' node ids kept: ${kept(F.supHeadRedisKept)})`,
      undefined,
    ],
  ];
  const rows = [];
  for (const [key, missKey, wanted, figure, bound] of specs) {
    const xs = F[key] ?? [];
    const miss = missKey ? missedOf(missKey) : wanted - xs.length;
    const st = xs.length ? stat(xs) : undefined;
    rows.push({
      figure,
      rounds: `${xs.length}/${wanted}${miss ? ` (${miss} missed their deadline)` : ''}`,
      st,
      bound: bound === undefined ? '–' : `≤ ${bound / 1000} s`,
      ok: bound === undefined ? undefined : miss === 0 && st !== undefined && st.max <= bound,
    });
  }
  if (F.supNoopOn && F.supNoopOff) {
    const on = stat(F.supNoopOn);
    const off = stat(F.supNoopOff);
    const lim = noOpLimitMs(3);
    const nothing = F.supNoopRestartedNothing?.[0] ? 'no node restarted' : 'A NODE RESTARTED';
    rows.push({
      figure: `no-op \`start\`, supervised (restart: always), 3 nodes (${nothing}; load average ${F.supNoopLoad?.[0] ?? '?'} before)`,
      rounds: `${F.supNoopOn.length}/${R.noop}`,
      st: on,
      ratio: on.median / off.median,
      bound: `≤ ${lim / 1000} s (median)`,
      ok: on.median <= lim && Boolean(F.supNoopRestartedNothing?.[0]),
    });
    rows.push({
      figure: `no-op \`start\`, the same cluster with restart: never, beside it (supervision: ${F.supUnsupervised?.[0] ?? '?'})`,
      rounds: `${F.supNoopOff.length}/${R.noop}`,
      st: off,
      bound: '–',
    });
  }
  const head = ['self-healing (issue 21)', 'rounds', 'median s', 'min s', 'max s', 'ratio', 'bound', 'ok'];
  const md = [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map(
      (r) =>
        `| ${[
          r.figure,
          r.rounds,
          fmtS(r.st?.median),
          fmtS(r.st?.min),
          fmtS(r.st?.max),
          r.ratio === undefined ? '–' : `${r.ratio.toFixed(2)}× (supervised / never)`,
          r.bound,
          r.ok === undefined ? '–' : r.ok ? 'yes' : 'NO',
        ].join(' | ')} |`,
    ),
  ].join('\n');
  const note =
    `supervised by: ${F.supLaunchers[0]}. "The head's node table": Ray's state API on the head's dashboard ` +
    '(/api/v0/nodes, the view `nokube ray status` reads), polled every 200 ms: the node at that address ALIVE with a ' +
    "new node id. Each death is isolated (every node up ≥ 60 s before it: the supervisor's first backoff, 1 s). " +
    'ok: every round within the bound (the no-op start: its median, as the main table judges no-op starts).';
  return { md: `${md}\n\n${note}`, rows, ok: rows.every((r) => r.ok !== false) };
}
