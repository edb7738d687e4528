// Turns what each node reported into per-node states and one cluster status (pure).
import { RESOURCE_RAY_KEYS } from '../../config/ray-keys';
import type { ClusterConfig, NodeSpec } from '../../config/types';
import type { AppliedSpec, StatusAnswer, ViewNode } from '../../remote/types';
import { specDrift } from './desired';
import type { ClusterStatus, NodeReport } from '../types';

export interface NodeObservation {
  reachable: boolean;
  error?: string;
  status?: StatusAnswer;
}

export interface Assessment {
  status: ClusterStatus;
  nodes: NodeReport[];
  alive: number;
  expected: number;
  /** Plain-words reasons the cluster is not healthy, one per problem. */
  problems: string[];
}

/** Configured resources that the head's view shows with another value. */
export function resourceMismatches(node: NodeSpec, seen: Record<string, number>): string[] {
  const out: string[] = [];
  const check = (name: string, want: number, sized: boolean) => {
    const got = seen[name] ?? 0;
    const same = sized ? Math.abs(got - want) <= Math.max(1, want * 0.01) : got === want;
    if (!same) out.push(`${name} ${got} (configured ${want})`);
  };
  // Ray's name for each configured resource; memory sizes may be rounded by Ray, counts may not.
  for (const { model, resource, sized } of RESOURCE_RAY_KEYS) {
    const want = node.ray[model];
    if (typeof want === 'number' && !(want === 0 && seen[resource] === undefined)) check(resource, want, !!sized);
  }
  for (const [name, want] of Object.entries(node.ray.resources ?? {})) check(name, want, false);
  return out;
}

/** The head's view of one configured node: the alive entry when there is one. */
export function findInView(view: ViewNode[] | undefined, name: string): ViewNode | undefined {
  const entries = (view ?? []).filter((v) => v.name === name);
  return entries.find((v) => v.alive) ?? entries[0];
}

export function assessCluster(
  cluster: ClusterConfig,
  wanted: Map<string, AppliedSpec>,
  observed: Map<string, NodeObservation>,
): Assessment {
  const view = viewOf(observed.get(cluster.head.name)?.status);
  const problems: string[] = [];
  const nodes = cluster.nodes.map((node) => assessNode(node, observed.get(node.name), view, wanted, problems));
  return summarize(cluster, nodes, problems);
}

/**
 * While `start` waits for its nodes: the head is judged by its own answer, a worker `start` started
 * or kept runs what it was given, so the head's view alone says whether it is there; a worker whose
 * start failed is `failed`.
 */
export function assessStarted(
  cluster: ClusterConfig,
  wanted: Map<string, AppliedSpec>,
  headStatus: StatusAnswer | undefined,
  failed: Set<string>,
): Assessment {
  const view = viewOf(headStatus);
  const problems: string[] = [];
  const nodes = cluster.nodes.map((node): NodeReport => {
    if (node === cluster.head) return assessNode(node, { reachable: true, status: headStatus }, view, wanted, problems);
    const report: NodeReport = { name: node.name, role: node.role, host: node.host, state: 'failed', reachable: true };
    if (failed.has(node.name)) {
      report.rayRunning = false;
      return report;
    }
    report.rayRunning = true;
    judgeInView(node, report, view, wanted.get(node.name)!, wanted, problems);
    return report;
  });
  return summarize(cluster, nodes, problems);
}

function viewOf(headStatus: StatusAnswer | undefined): ViewNode[] | undefined {
  return headStatus?.running ? headStatus.cluster : undefined;
}

/** One node from its own answer and the head's view. */
function assessNode(
  node: NodeSpec,
  obs: NodeObservation | undefined,
  view: ViewNode[] | undefined,
  wanted: Map<string, AppliedSpec>,
  problems: string[],
): NodeReport {
  const report: NodeReport = { name: node.name, role: node.role, host: node.host, state: 'unknown' };
  if (!obs || !obs.reachable) {
    report.state = 'unreachable';
    report.reachable = false;
    report.error = obs?.error ?? 'not checked';
    problems.push(`${node.name} (${node.host}) is unreachable: ${report.error}`);
    return report;
  }
  const st = obs.status;
  report.reachable = true;
  report.rayRunning = !!st?.running;
  report.rayVersion = st?.ray_version;
  report.pythonVersion = st?.python_version;
  report.nodeId = st?.node_id;
  if (obs.error) report.error = obs.error;
  if (!st?.running && node.role === 'worker' && view && st?.applied) {
    // it was started (its applied record is there) and the cluster runs, but all its Ray
    // processes are gone: rebooted or killed, not stopped on purpose
    report.state = 'missing';
    report.error = 'Ray is not running on it any more (rebooted, or its processes were killed)';
    problems.push(`${node.name} (${node.host}) was started but runs no Ray process now`);
    return report;
  }
  if (!st?.running) {
    report.state = 'stopped';
    problems.push(`${node.name} (${node.host}) is not running Ray`);
    return report;
  }
  if (st.raylet === false) {
    report.state = 'missing';
    report.error = 'its raylet is not running';
    problems.push(`${node.name} (${node.host}) runs some Ray processes but not its raylet`);
    return report;
  }
  judgeInView(node, report, view, st.applied, wanted, problems);
  return report;
}

/** A node that runs Ray: alive in the head's view, running what it should, with the configured resources. */
function judgeInView(
  node: NodeSpec,
  report: NodeReport,
  view: ViewNode[] | undefined,
  applied: AppliedSpec | null,
  wanted: Map<string, AppliedSpec>,
  problems: string[],
): void {
  const seen = findInView(view, node.name);
  if (seen) {
    report.nodeId = seen.node_id;
    report.resources = seen.resources;
  }
  if (!seen?.alive) {
    report.state = 'missing';
    const why = view ? "is not alive in the head's view" : 'cannot be checked: the head is not running';
    problems.push(`${node.name} (${node.host}) runs Ray but ${why}`);
    return;
  }
  const drift = specDrift(applied, wanted.get(node.name)!).map((d) => `${d.field} ${d.from} → ${d.to}`);
  const mismatched = resourceMismatches(node, seen.resources);
  if (drift.length || mismatched.length) {
    report.state = 'drifted';
    const what = [...drift, ...mismatched.map((m) => `resource ${m}`)].join('; ');
    report.error = `not as configured: ${what}`;
    problems.push(`${node.name} (${node.host}) is ${report.error}`);
    return;
  }
  report.state = 'running';
}

/** The cluster's status from its nodes': a head that is not up means the cluster is down (or stopped). */
function summarize(cluster: ClusterConfig, nodes: NodeReport[], problems: string[]): Assessment {
  const head = nodes.find((n) => n.role === 'head')!;
  let status: ClusterStatus;
  if (head.state === 'unreachable' || head.state === 'stopped' || head.state === 'missing') {
    const nothingRuns = nodes.every((n) => n.reachable && !n.rayRunning);
    status = nothingRuns ? 'stopped' : 'down';
  } else {
    status = nodes.every((n) => n.state === 'running') ? 'healthy' : 'degraded';
  }
  const alive = nodes.filter((n) => n.state === 'running' || n.state === 'drifted').length;
  return { status, nodes, alive, expected: cluster.nodes.length, problems };
}
