// Looking at the cluster as it runs now, shared by `plan`, `start` and `status`: every node probed
// in parallel, the head's view, what each node should run, and what the head remembers.
import type { ClusterConfig } from '../../config/types';
import type { AppliedSpec, ClusterMember, LockRequest, ProbeAnswer, StatusAnswer, ViewWait } from '../../remote/types';
import { RemoteError } from '../../remote/client';
import { mapLimit } from './concurrency';
import { dashboardPort, desiredSpec, gcsPort, hostForUrl, pinnedPorts, rayArgs } from '../decisions/desired';
import type { LiveNode } from '../decisions/plan-diff';
import type { Drift } from '../types';
import { redisPassword } from '../decisions/gcs-fault-tolerance';
import { nodeError, type ClusterSession, type NodeHandle } from './session';

export interface Probed {
  probes: Map<string, ProbeAnswer>;
  headView?: StatusAnswer;
}

/** Probes every reachable node (in parallel) and asks a running head for its view. */
export async function probeAll(
  session: ClusterSession,
  handles: NodeHandle[],
  withPorts: boolean,
  lock?: LockRequest,
): Promise<Probed> {
  const { cluster } = session;
  const probes = new Map<string, ProbeAnswer>();
  // GCS fault tolerance: the head checks its Redis in the same call (unless a password is unset:
  // validate named it, and an offline look does not need it)
  const faultTolerance = cluster.gcsFaultTolerance;
  const password = redisPassword(cluster, session.options.env);
  const checkRedis = faultTolerance && (faultTolerance.redisPassword === undefined || password !== undefined);
  await mapLimit(handles, session.options.concurrency, async (h) => {
    if (!h.lib) return;
    const head = h.node.role === 'head';
    const ports = withPorts ? pinnedPorts(cluster, h.node) : [];
    try {
      probes.set(
        h.node.name,
        await h.lib.probe({
          role: h.node.role,
          ports,
          python: session.execution(h.node).python ?? null,
          // compared with what is found, never run
          ray_version: cluster.rayVersion ?? null,
          // the head's view in the same round trip (only computed when the head runs)
          ...(head ? { view: { dashboard_port: dashboardPort(cluster), gcs_port: gcsPort(h.node) } } : {}),
          ...(head && lock ? { lock } : {}),
          ...(head && checkRedis
            ? { redis: { address: faultTolerance.redisAddress, password: password ?? null } }
            : {}),
        }),
      );
    } catch (err) {
      h.error = nodeError(h.node, err);
      h.answered = err instanceof RemoteError;
    }
  });
  const head = session.handle(cluster.head);
  const headProbe = probes.get(cluster.head.name);
  let headView: StatusAnswer | undefined = headProbe?.running ? headProbe.view : undefined;
  if (head.lib && headProbe?.running && !headView) {
    headView = await headStatus(session, head).catch(() => undefined);
  }
  return { probes, headView };
}

/**
 * The head's status with its view; `fallback: false` skips `ray.nodes()` when the dashboard is not up yet;
 * `usage` also asks what the cluster is doing (one more HTTP call on the head, for `status`).
 */
export function headStatus(
  session: ClusterSession,
  head: NodeHandle,
  fallback = true,
  wait?: ViewWait,
  usage = false,
  seenBy?: string,
): Promise<StatusAnswer> {
  return head.lib!.status({
    role: 'head',
    python: session.execution(head.node).python ?? null,
    dashboard_port: dashboardPort(session.cluster),
    gcs_port: gcsPort(head.node),
    ...(fallback ? {} : { fallback: false }),
    ...(wait ? { wait } : {}),
    ...(usage ? { usage: true } : {}),
    ...(seenBy ? { seen_by: seenBy } : {}),
  });
}

/** The least time between two looks of a watch. */
const WATCH_PAUSE_MS = 100;
/**
 * How long one look waits on the head for its view to change (the head polls its own dashboard
 * every 100 ms): one SSH exec and one Python per change, not per 100 ms, so a wait takes little of
 * the CPU a starting head and its workers need.
 */
const WATCH_WAIT_MS = 2_000;
/** How long a watch asks the dashboard alone before it also accepts the `ray.nodes()` fallback. */
const WATCH_FALLBACK_AFTER_MS = 20_000;

/**
 * Repeated looks at the head's view while nodes start: each call answers once the alive nodes differ
 * from the last look's (or after 2 s), at most one look per 100 ms; a failed look is `undefined`.
 * While Ray is starting the dashboard answers within seconds, so it is asked alone at first, and
 * `ray.nodes()` (an `import ray`, seconds of CPU) is accepted only when it stays silent.
 */
export function watchHeadView(session: ClusterSession, head: NodeHandle): () => Promise<StatusAnswer | undefined> {
  const t0 = Date.now();
  let key: string | null = null;
  let asked = 0;
  return async () => {
    const since = Date.now() - asked;
    if (since < WATCH_PAUSE_MS) await new Promise((r) => setTimeout(r, WATCH_PAUSE_MS - since));
    asked = Date.now();
    const fallback = asked - t0 > WATCH_FALLBACK_AFTER_MS;
    try {
      const view = await headStatus(session, head, fallback, fallback ? undefined : { key, ms: WATCH_WAIT_MS });
      key = view.view_key ?? null;
      return view;
    } catch (err) {
      session.options.reporter.debug(`head status failed: ${(err as Error).message}`);
      return undefined;
    }
  };
}

/** What every configured node should run, given the addresses the nodes were reached at. */
export function wantedSpecs(session: ClusterSession): Map<string, AppliedSpec> {
  const { cluster } = session;
  const head = session.handle(cluster.head);
  const headIp = rayArgs(cluster, cluster.head, head.ip).node_ip_address as string;
  const headAddress = `${hostForUrl(headIp)}:${gcsPort(cluster.head)}`;
  return new Map(cluster.nodes.map((n) => [n.name, desiredSpec(cluster, n, session.handle(n).ip, headAddress)]));
}

/** Each configured node as the probes and the head's view found it, for the live plan. */
export function liveNodes(cluster: ClusterConfig, session: ClusterSession, probed: Probed): Map<string, LiveNode> {
  const live = new Map<string, LiveNode>();
  for (const node of cluster.nodes) {
    const h = session.handle(node);
    const p = probed.probes.get(node.name);
    if (!p) {
      // a node that answered but could not be probed (storage, interpreter) is failed, not unreachable
      live.set(node.name, { reachable: !!h.answered, running: false, applied: null, error: h.error?.message });
      continue;
    }
    const seen = probed.headView?.cluster?.filter((v) => v.name === node.name);
    live.set(node.name, {
      reachable: true,
      running: p.running,
      applied: p.applied,
      rayVersion: p.running_ray_version ?? undefined,
      pathDrift: pythonPathDrift(p),
      supervised: supervisedNow(p),
      // A node without its raylet is gone, even while the head's view has not noticed yet.
      alive: p.raylet === false ? false : probed.headView?.cluster ? !!seen?.some((v) => v.alive) : undefined,
    });
  }
  return live;
}

/**
 * A running Ray whose PATH finds another `python` first than Ray's interpreter: a job's entrypoint
 * there runs that one (and fails at `import ray`). A restart with the interpreter's bin first fixes it.
 */
export function pythonPathDrift(p: ProbeAnswer): Drift | undefined {
  const seen = p.running ? p.running_python_first : undefined;
  if (!seen?.known || seen.first || !seen.python) return undefined;
  return { field: "python on Ray's PATH", from: seen.found ?? '(none)', to: seen.python };
}

/**
 * Running nodes whose Ray's PATH could not be read, or that were started with the SSH session's
 * variables (an older nokube: Ray's workers start through `bash -c`, which then reads ~/.bashrc and
 * its pyenv or conda lines): a warning each.
 */
export function unknownPythonPath(probes: Map<string, ProbeAnswer>): string[] {
  const bashrc = [...probes]
    .filter(([, p]) => p.running && p.running_python_first?.known && p.running_python_first.ssh_session)
    .map(
      ([name]) =>
        `${name}: its running Ray was started by an older nokube, with the SSH session's variables: its workers start through bash, which reads ~/.bashrc, so a job's \`python\` there is Ray's only if ~/.bashrc leaves PATH alone (the next restart of the node fixes it)`,
    );
  return [...probes]
    .filter(([, p]) => p.running && p.running_python_first && !p.running_python_first.known)
    .map(
      ([name]) =>
        `${name}: unknown whether its running Ray has its interpreter first on PATH (started by an older nokube or by hand): a job's \`python\` there may not be Ray's`,
    )
    .concat(bashrc);
}

/** Whether the node's supervisor looks after its Ray now (undefined from a library without supervision). */
export function supervisedNow(p: ProbeAnswer): boolean | undefined {
  if (p.supervision === undefined) return undefined;
  const s = p.supervision;
  return !!s && s.alive && (s.state === 'running' || s.state === 'starting' || s.state === 'backoff');
}

/** What the head remembers of the last applied config (ignored when another cluster wrote it). */
export function recordedMembers(session: ClusterSession, probed: Probed): ClusterMember[] {
  const record = probed.probes.get(session.cluster.head.name)?.members;
  return record && record.cluster === session.cluster.clusterName ? record.nodes : [];
}
