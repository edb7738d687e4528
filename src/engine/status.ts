// `status`: read-only. Every node says whether Ray runs there; the head says who is alive and what
// the cluster is doing. `--watch` looks again over the same connections until interrupted.
import { mapLimit } from './steps/concurrency';
import { assessCluster, type NodeObservation } from './decisions/health';
import { usageView } from './decisions/usage';
import { fail, PhaseClock } from './steps/run-result';
import { nodeSupervision, supervisionWarnings } from './decisions/supervision';
import { nodeError, type ClusterSession } from './steps/session';
import { headStatus, wantedSpecs } from './steps/inspect';
import { lookAtPackages } from './steps/install';
import { gcsPort } from './decisions/desired';
import { NODE_LIMITS } from './decisions/defaults';
import { judgeEnvironment, packageWords } from './decisions/environment';
import type { RunResult, StatusWatch } from './types';

export async function clusterStatus(session: ClusterSession, result: RunResult, clock: PhaseClock): Promise<void> {
  const { cluster, options } = session;
  const handles = await clock.phase('connect', () => session.connect(cluster.nodes));
  const observed = new Map<string, NodeObservation>();
  await clock.phase('status', () =>
    mapLimit(handles, options.concurrency, async (h) => {
      if (!h.lib) {
        observed.set(h.node.name, { reachable: false, error: h.error?.message });
        return;
      }
      try {
        const status =
          h.node.role === 'head'
            ? await headStatus(session, h, true, undefined, true, options.seenBy)
            : await h.lib.status({ role: 'worker', python: cluster.python ?? null, seen_by: options.seenBy });
        observed.set(h.node.name, { reachable: true, status, ...(status.ok ? {} : { error: status.error }) });
      } catch (err) {
        const e = nodeError(h.node, err);
        observed.set(h.node.name, { reachable: true, error: e.message });
      }
    }),
  );
  const packages = cluster.install
    ? await clock.phase('packages', () => lookAtPackages(session, handles))
    : await lookAtPackages(session, handles);
  const assessment = assessCluster(cluster, wantedSpecs(session), observed);
  result.nodes = assessment.nodes;
  result.status = assessment.status;
  result.aliveNodes = assessment.alive;
  applyUsage(result, observed.get(cluster.head.name)?.status);
  const supervisionNotes: string[] = [];
  for (const n of result.nodes) {
    const s = nodeSupervision(observed.get(n.name)?.status?.supervision);
    if (s) n.supervision = s;
    supervisionNotes.push(...supervisionWarnings(n.name, s));
  }
  for (const n of assessment.nodes) options.reporter.node(n.name, n.state + (n.error ? `: ${n.error}` : ''));
  for (const h of handles) if (h.error) result.errors.push(h.error);
  if (assessment.status !== 'healthy' && assessment.status !== 'stopped') {
    for (const p of assessment.problems) result.warnings.push(p);
  }
  result.warnings.push(...supervisionNotes);
  // the cluster's packages: a node whose environment differs is unhealthy, even with Ray alive
  const environment = judgeEnvironment(cluster, packages);
  for (const [name, env] of environment.nodes) {
    const drift = packages.get(name)?.drift ?? [];
    result.warnings.push(
      `${name}: unhealthy environment: ${drift.map(packageWords).join(', ')}${env.managed ? ' (nokube ray start installs them)' : ' (managed outside nokube: install them there)'}`,
    );
    const node = result.nodes.find((n) => n.name === name);
    if (node && !node.error) node.error = 'unhealthy environment';
  }
  for (const e of environment.errors) result.warnings.push(`${e.node}: ${e.message}`);
  if (result.status === 'healthy' && (environment.nodes.size || environment.errors.length)) result.status = 'degraded';
  if (options.deep && result.status !== 'stopped')
    await clock.phase('imports', () => importEverywhere(session, result));
  result.ok = result.errors.length === 0;
}

/** Used / total and pending demand from the head's answer, in total and on each node's report. */
function applyUsage(result: RunResult, head: NodeObservation['status']): void {
  const why = !head?.running
    ? 'the head is not running'
    : head.cluster_source && head.cluster_source !== 'dashboard'
      ? "the head's dashboard does not answer"
      : 'the head did not say (an older nokube on the node)';
  const { usage, byNode } = usageView(head?.running ? head.usage : undefined, head?.cluster ?? undefined, why);
  result.usage = usage;
  for (const n of result.nodes) {
    const u = byNode.get(n.name);
    if (u && (n.state === 'running' || n.state === 'drifted')) n.usage = u;
  }
}

/**
 * `status --watch`: a round every `everySec` over the session's open connections (a node that could
 * not be reached stays so until the next run), each handed to `onRound`; ends when the run's signal
 * fires, even mid-round (run() then closes the connections), `result` holding the last whole round.
 */
export async function watchStatus(
  session: ClusterSession,
  result: RunResult,
  clock: PhaseClock,
  watch: StatusWatch,
): Promise<void> {
  const { signal, reporter } = session.options;
  const stopped = new Promise<true>((resolve) => {
    if (signal?.aborted) resolve(true);
    signal?.addEventListener('abort', () => resolve(true), { once: true });
  });
  const blank = structuredClone({ ...result, config: undefined });
  let round = result;
  let roundClock = clock;
  for (;;) {
    const t0 = Date.now();
    const done = clusterStatus(session, round, roundClock);
    done.catch(() => {}); // a round cut short by the signal fails once its connections close
    if ((await Promise.race([done.then(() => false), stopped])) === true) break;
    roundClock.total();
    watch.onRound(round);
    if (round !== result) Object.assign(result, round);
    let timer: NodeJS.Timeout | undefined;
    const pause = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(watch.everySec * 1000 - (Date.now() - t0), 50));
    });
    const stop = await Promise.race([pause, stopped]);
    clearTimeout(timer);
    if (stop) break;
    round = { ...structuredClone(blank), config: result.config };
    roundClock = new PhaseClock(round, reporter);
  }
  result.timings = result.timings.filter((t) => t.phase !== 'total'); // run() adds the whole watch's
}

/**
 * status --deep: the same environment on every node, checked, not assumed: a Ray job on the head
 * whose one task per alive node imports every package of ray_spec.install (and Ray).
 */
async function importEverywhere(session: ClusterSession, result: RunResult): Promise<void> {
  const { cluster, options } = session;
  const head = session.handle(cluster.head);
  const requirements = cluster.install?.requirements ?? [];
  if (!head.lib) return;
  try {
    const answer = await head.lib.imports({
      python: cluster.python ?? null,
      gcs_port: gcsPort(cluster.head),
      requirements,
      timeout_sec: NODE_LIMITS.importsSec,
    });
    if (!answer.ok) throw Object.assign(new Error(answer.error ?? 'import check failed'), { hint: answer.hint });
    const seen = answer.nodes ?? [];
    const good: string[] = [];
    for (const node of cluster.nodes) {
      const n = seen.find((x) => x.name === node.name);
      if (!n) {
        fail(result, {
          node: node.name,
          host: node.host,
          message: 'import check: not alive in the cluster, so not checked',
        });
      } else if (n.problems.length) {
        fail(result, {
          node: node.name,
          host: node.host,
          message: `import check failed with ${n.python}: ${n.problems.join('; ')}`,
          hint: "nokube ray start installs ray_spec.install's packages in the venv it manages; in your own environment, install them there",
        });
      } else {
        good.push(node.name);
        options.reporter.node(
          node.name,
          `imports ${requirements.length ? requirements.map((r) => r.name).join(', ') : 'ray'} (${n.python})`,
        );
      }
    }
    if (good.length === cluster.nodes.length) {
      options.reporter.info(`every node imports the cluster's packages: ${good.join(', ')}`);
    }
  } catch (err) {
    fail(result, { ...nodeError(cluster.head, err), message: `import check: ${nodeError(cluster.head, err).message}` });
  }
  if (!result.errors.length) return;
  if (result.status === 'healthy') result.status = 'degraded';
}
