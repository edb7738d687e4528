// `start`: converge the cluster to the config. Connect all → preflight all → head → workers in
// parallel → wait until the head's view lists every configured node alive as configured.
// A node already running as configured is left alone.
import type { ClusterConfig, NodeSpec } from '../config/types';
import { parseSshUrl } from '../config';
import type { AppliedSpec, ClusterMember, MembersRecord, StatusAnswer } from '../remote/types';
import { mapLimit } from './steps/concurrency';
import { clusterDisruption } from './decisions/disruption';
import { drainNode } from './steps/drain';
import { assessStarted } from './decisions/health';
import { liveNodes, probeAll, recordedMembers, wantedSpecs, watchHeadView, type Probed } from './steps/inspect';
import { installRay, lookAtPackages, nodesToInstall } from './steps/install';
import { judgeEnvironment, withPackageDrift } from './decisions/environment';
import { countChanges, livePlan } from './decisions/plan-diff';
import { NODE_LIMITS, rayStartSec } from './decisions/defaults';
import { takeLock, type HeldLock } from './steps/lock';
import { probeTakingLock } from './steps/locked-probe';
import { noTokenAuthWarning } from './decisions/no-token-auth';
import { preflightProblems } from './decisions/preflight';
import { redisPassword, redisProblem } from './decisions/gcs-fault-tolerance';
import { rayOnIpv6Problems } from './decisions/ray-on-ipv6';
import { checkNetwork } from './steps/network';
import { confirmStarted } from './steps/still-alive';
import { fail, type PhaseClock } from './steps/run-result';
import { rollWorkers } from './steps/rollout';
import { nodeError, type ClusterSession, type NodeHandle } from './steps/session';
import type { NodeState, PlanItem, RunResult } from './types';

export async function startCluster(session: ClusterSession, result: RunResult, clock: PhaseClock): Promise<void> {
  const { cluster } = session;
  const handles = await clock.phase('connect', () => session.connect(cluster.nodes));
  // The lock comes before the look at the nodes: a run that waited for it plans from what the
  // previous holder left, never from what it saw before.
  const head = session.handle(cluster.head);
  // the head's probe takes the lock in the same call (locked-probe.ts); held by another run, the
  // lock is waited for on its own and the nodes are looked at again
  const look = head.lib ? await clock.phase('preflight', () => probeTakingLock(session, handles)) : undefined;
  const held = look?.held ?? (head.lib ? await clock.phase('lock', () => takeLock(session, head)) : undefined);
  // a head that answered but cannot run remote_lib (storage, interpreter) is failed by the preflight
  if (held?.error && !head.answered) {
    fail(result, held.error);
    result.status = 'unknown';
    return;
  }
  let released: Promise<void> | undefined;
  const release = () => (released ??= releaseLock(session, result, held?.lock));
  try {
    await startLocked(session, result, clock, handles, held?.lock, look?.probed, release);
  } finally {
    await release();
  }
}

/** Releases the lock; the members record goes with the unlock (one round trip), after a clean apply only. */
async function releaseLock(session: ClusterSession, result: RunResult, lock: HeldLock | undefined): Promise<void> {
  const members = lock && result.errors.length === 0 && result.changes > 0 ? membersRecord(session) : undefined;
  const answer = await lock?.release(members ? { members } : {});
  if (members && !answer?.ok) {
    result.warnings.push(`could not record the applied nodes on the head: ${answer?.error ?? 'unlock failed'}`);
  }
}

async function startLocked(
  session: ClusterSession,
  result: RunResult,
  clock: PhaseClock,
  handles: NodeHandle[],
  lock: HeldLock | undefined,
  looked: Probed | undefined,
  release: () => Promise<void>,
): Promise<void> {
  const { cluster, options } = session;
  const { reporter } = options;
  const probed = looked ?? (await clock.phase('preflight', () => probeAll(session, handles, true)));
  // ray_spec.install's packages, looked at only when the config names some
  const packages = cluster.install
    ? await clock.phase('packages', () => lookAtPackages(session, handles))
    : await lookAtPackages(session, handles);
  const environment = judgeEnvironment(cluster, packages);
  for (const w of environment.warnings) {
    result.warnings.push(w);
    reporter.warn(w);
  }
  // a pin against Ray's stops the run before anything is installed
  const installing = environment.errors.length ? [] : nodesToInstall(session, probed.probes, packages);
  const installErrors = installing.length ? await clock.phase('install', () => installRay(session, installing)) : [];
  if (installing.length > installErrors.length) {
    // the installed venvs are the nodes' Ray from now on: look again at what they have
    const again = await probeAll(
      session,
      installing.filter((n) => !installErrors.some((e) => e.node === n.name)).map((n) => session.handle(n)),
      true,
    );
    for (const [name, p] of again.probes) probed.probes.set(name, p);
    if (again.headView) probed.headView = again.headView;
  }
  const wanted = wantedSpecs(session);
  const headProbe = probed.probes.get(cluster.head.name);
  const unauthenticated = noTokenAuthWarning(cluster, headProbe);
  if (unauthenticated) {
    result.warnings.push(unauthenticated);
    reporter.warn(unauthenticated);
  }
  const members = recordedMembers(session, probed);
  const plan = livePlan(cluster, wanted, withPackageDrift(liveNodes(cluster, session, probed), environment), members);
  result.plan = plan;
  result.changes = countChanges(plan);
  result.disruption = clusterDisruption(plan, cluster.rollout, cluster.workers.length);

  const onIpv6 = rayOnIpv6Problems(cluster, probed.probes, wanted);
  for (const w of onIpv6.warnings) {
    result.warnings.push(w);
    reporter.warn(w);
  }
  const problems = [
    ...environment.errors,
    ...installErrors,
    ...onIpv6.problems,
    ...handles.filter((h) => h.error).map((h) => h.error!),
    ...preflightProblems(cluster, probed.probes).filter((p) => !installErrors.some((e) => e.node === p.node)),
    ...[redisProblem(cluster, headProbe)].filter((p) => p !== undefined),
  ];
  if (problems.length) {
    for (const p of problems) fail(result, p);
    reporter.warn('preflight failed: nothing was started or stopped');
    markNodes(result, plan, problems);
    result.status = headProbe?.running ? 'degraded' : 'down';
    return;
  }

  if (result.changes === 0) {
    reporter.info('every node already runs as configured: nothing to do');
  }
  if (!lock) return; // unreachable head: reported by the preflight above
  if (result.changes > 0) {
    // a blocked pair lets every raylet register and then hangs the first object moved between them:
    // found now, before anything starts
    const network = await clock.phase('network', () => checkNetwork(session, handles, probed.probes));
    if (network.errors.length) {
      for (const e of network.errors) fail(result, e);
      reporter.warn('the network between the nodes is blocked: nothing was started or stopped');
      markNodes(result, plan, network.errors);
      result.status = headProbe?.running ? 'degraded' : 'down';
      return;
    }
  }
  await applyPlan(session, plan, wanted, probed, result, clock);
  if (result.errors.length === 0 || result.errors.every((e) => e.node !== cluster.head.name)) {
    // nothing changed: the head's view from the preflight probe already shows whether every node
    // is alive as configured; only a cluster that is not settled yet is polled
    const seen = result.changes === 0 ? probed.headView : undefined;
    await clock.phase('wait', async () => {
      await waitForNodes(session, wanted, probed, result, seen);
      // a node the head still lists may have lost its raylet since it started: ask the ones started.
      // That look only reads, and the apply is over: the lock goes (with the members of the apply)
      // meanwhile, a round trip fewer at the end of every start that changed something.
      if (result.changes > 0) await Promise.all([confirmStarted(session, result), release()]);
    });
  }
}

async function applyPlan(
  session: ClusterSession,
  plan: PlanItem[],
  wanted: Map<string, AppliedSpec>,
  probed: Probed,
  result: RunResult,
  clock: PhaseClock,
): Promise<void> {
  const { cluster, options } = session;
  const action = new Map(plan.map((p) => [p.node, p.action]));
  const headProbe = probed.probes.get(cluster.head.name);
  let token = headProbe?.auth_token ?? undefined;

  const startNode = async (node: NodeSpec): Promise<boolean> => {
    const act = action.get(node.name);
    if (act !== 'start' && act !== 'restart') return true;
    const h = session.handle(node);
    const t0 = Date.now();
    options.reporter.node(node.name, act === 'restart' ? 'restarting' : 'starting');
    try {
      const spec = wanted.get(node.name)!;
      const answer = await h.lib!.start({
        role: node.role,
        restart: act === 'restart' || !!probed.probes.get(node.name)?.running,
        timeout_sec: rayStartSec(options.timeoutSec),
        grace_sec: NODE_LIMITS.stopGraceSec,
        connect_timeout_sec: NODE_LIMITS.headConnectSec,
        applied: spec,
        python: cluster.python ?? null,
        head_address: spec.head_address ?? null,
        auth_token: token ?? null,
        ...(spec.redis ? { redis_password: redisPassword(cluster, options.env) ?? null } : {}),
        supervise: {
          restart: cluster.restart,
          keep_sessions: cluster.keepSessions,
          keep_dead_worker_logs: cluster.keepDeadWorkerLogs,
        },
      });
      if (!answer.ok) {
        if (answer.log_tail) {
          const tail = answer.log_tail.trimEnd().split('\n').slice(-15).join('\n');
          options.reporter.node(node.name, `Ray's output:\n${tail}`);
        }
        throw Object.assign(new Error(answer.error ?? 'ray start failed'), { hint: answer.hint });
      }
      if (typeof answer.ray_start_ms === 'number') session.timeline.rayStart(node.name, answer.ray_start_ms);
      if (answer.warning) result.warnings.push(`${node.name}: ${answer.warning}`);
      if (answer.auth_token) {
        options.reporter.secret(answer.auth_token);
        token = answer.auth_token;
      }
      options.reporter.node(node.name, `${act === 'restart' ? 'restarted' : 'started'}`, Date.now() - t0);
      return true;
    } catch (err) {
      const e = nodeError(node, err);
      fail(result, e);
      options.reporter.node(node.name, `failed: ${e.message.split('\n')[0]}`, Date.now() - t0);
      return false;
    }
  };

  if (token) options.reporter.secret(token);
  if (!(await clock.phase('head', () => startNode(cluster.head)))) {
    markNodes(result, plan, result.errors);
    result.status = 'down';
    return;
  }
  let untouched: NodeSpec[] = [];
  await clock.phase('workers', async () => {
    if (action.get(cluster.head.name) !== 'keep') {
      // the head's restart took the cluster's work with it: every worker follows at once
      await mapLimit(cluster.workers, options.concurrency, startNode);
    } else {
      // new workers add capacity first; running ones are drained and restarted in rolling batches
      const fresh = cluster.workers.filter((w) => action.get(w.name) === 'start');
      await mapLimit(fresh, options.concurrency, startNode);
      const rolling = cluster.workers.filter((w) => action.get(w.name) === 'restart');
      untouched = await rollWorkers(session, rolling, probed.headView, startNode, result);
    }
    await stopRemoved(session, plan, probed, result);
  });
  const failed = new Set(result.errors.map((e) => e.node));
  const changed = plan.filter((p) => p.action === 'start' || p.action === 'restart').map((p) => p.node);
  const skipped = new Set(untouched.map((n) => n.name));
  result.rollout = {
    done: changed.filter((n) => !failed.has(n) && !skipped.has(n)),
    failed: changed.filter((n) => failed.has(n)),
    untouched: [...skipped],
  };
}

/** Nodes the last applied config had and this one drops: stopped with the same credentials. */
async function stopRemoved(
  session: ClusterSession,
  plan: PlanItem[],
  probed: Probed,
  result: RunResult,
): Promise<void> {
  const members = recordedMembers(session, probed);
  const gone = plan.filter((p) => p.action === 'stop').map((p) => members.find((m) => m.name === p.node)!);
  await mapLimit(gone, session.options.concurrency, async (member) => {
    const node = memberNode(member, session.cluster);
    await session.connect([node], { defaultUser: member.user ?? session.options.ssh.defaultUser });
    const h = session.handle(node);
    try {
      if (h.error) throw Object.assign(new Error(h.error.message), { hint: h.error.hint });
      if (member.role === 'worker') await drainNode(session, node, probed.headView, result.warnings);
      const answer = await h.lib!.stop({ grace_sec: NODE_LIMITS.stopGraceSec });
      if (!answer.ok) throw new Error(answer.error ?? 'stop failed');
      session.options.reporter.node(node.name, 'stopped (removed from config)');
    } catch (err) {
      result.warnings.push(
        `${node.name} was removed from the config but could not be stopped: ${nodeError(node, err).message}`,
      );
    }
  });
}

/** A node the head remembers but the config no longer has, to connect to and stop. */
function memberNode(m: ClusterMember, cluster: ClusterConfig): NodeSpec {
  // the record holds an ssh_url a valid config had; should it not parse, it is still tried as a host name
  const url = parseSshUrl(m.ssh_url);
  return {
    name: m.name,
    role: m.role,
    sshUrl: m.ssh_url,
    host: url.ok ? url.host : m.ssh_url,
    sshPort: url.ok ? url.port : 22,
    ray: {},
    storage: { type: 'local', path: m.storage ?? undefined },
    users: [],
    index: -1,
    pos: cluster.head.pos,
  };
}

/** Polls the head's view until every configured node is alive as configured, or the timeout. */
async function waitForNodes(
  session: ClusterSession,
  wanted: Map<string, AppliedSpec>,
  probed: Probed,
  result: RunResult,
  firstView?: StatusAnswer,
): Promise<void> {
  const { cluster, options } = session;
  const head = session.handle(cluster.head);
  const deadline = Date.now() + options.timeoutSec * 1000;
  const failed = new Set(result.errors.flatMap((e) => (e.node ? [e.node] : [])));
  // workers a stopped rollout did not touch still run as they were found
  const untouched = new Set(result.rollout?.untouched ?? []);
  const seenAlive = new Set<string>();
  const t0 = Date.now();
  const look = watchHeadView(session, head);
  for (;;) {
    const view: StatusAnswer | undefined = firstView ?? (await look());
    firstView = undefined;
    const assessment = assessStarted(cluster, wanted, view, failed);
    for (const n of assessment.nodes.filter((x) => untouched.has(x.name))) {
      n.state = 'drifted';
      n.error = 'left as it was: the rollout stopped before it';
    }
    for (const n of assessment.nodes) {
      if (n.state === 'running' && !seenAlive.has(n.name)) {
        seenAlive.add(n.name);
        session.timeline.alive(n.name);
        options.reporter.node(n.name, "alive in the head's view", Date.now() - t0);
      }
      const probe = probed.probes.get(n.name);
      n.rayVersion ??= probe?.ray?.version;
      n.pythonVersion ??= probe?.python?.version;
    }
    const settled = assessment.nodes.every(
      (n) => n.state === 'running' || n.state === 'failed' || untouched.has(n.name),
    );
    if (settled || Date.now() > deadline) {
      result.nodes = assessment.nodes;
      result.aliveNodes = assessment.alive;
      result.status = assessment.status;
      if (!settled) {
        for (const n of assessment.nodes.filter((x) => x.state !== 'running' && x.state !== 'failed')) {
          fail(result, {
            node: n.name,
            host: n.host,
            message: `not alive as configured in the head's view after ${options.timeoutSec}s (${n.error ?? n.state})`,
            hint: `check that ${n.host} can reach ${result.headAddress} (firewall) and read Ray's logs in the node's storage (ray/session_latest/logs/raylet.err)`,
          });
        }
      }
      return;
    }
  }
}

/** What the head remembers (state/members.json) of this config, so a later run can stop dropped nodes. */
function membersRecord(session: ClusterSession): MembersRecord {
  const { cluster } = session;
  const members: ClusterMember[] = cluster.nodes.map((n) => ({
    name: n.name,
    role: n.role,
    ssh_url: n.sshUrl,
    user: session.handle(n).conn?.user,
    storage: n.storage.path ?? null,
  }));
  return { cluster: cluster.clusterName, nodes: members };
}

/**
 * Where each node stands when `start` ends early (preflight, lock or head failure): nothing after the
 * failure ran, so a node is as it was found, which its plan item says.
 */
function markNodes(result: RunResult, plan: PlanItem[], errors: { node?: string; message: string }[]): void {
  const byNode = new Map(errors.map((e) => [e.node, e.message]));
  result.nodes = result.nodes.map((n) => {
    const err = byNode.get(n.name);
    const planned = plan.find((p) => p.node === n.name);
    let state: NodeState = 'not-started';
    if (planned?.reason.startsWith('unreachable')) state = 'unreachable';
    else if (err) state = 'failed';
    else if (planned?.action === 'keep') state = 'running';
    else if (planned?.action === 'restart') state = 'drifted';
    else if (planned?.reason === 'not running') state = 'stopped';
    return { ...n, state, ...(err ? { error: err } : {}) };
  });
}
