// What `start` would do to each node (pure). Offline: the previous config against this one.
// Live: what runs now against this config.
import type { ClusterConfig, NodeSpec } from '../../config/types';
import type { AppliedSpec, ClusterMember } from '../../remote/types';
import { addresses, desiredSpec, specDrift } from './desired';
import { withDisruption } from './disruption';
import { workersOutliveHead } from './gcs-fault-tolerance';
import type { Drift, PlanItem } from '../types';

function item(node: NodeSpec, action: PlanItem['action'], reason: string, drift: Drift[] = []): PlanItem {
  return { node: node.name, role: node.role, host: node.host, action, drift, reason };
}

/** Offline: compares the two configs only; undefined previous means every node is new. */
export function offlinePlan(next: ClusterConfig, previous?: ClusterConfig): PlanItem[] {
  const items: PlanItem[] = [];
  const prevByName = new Map((previous?.nodes ?? []).map((n) => [n.name, n]));
  const headAddr = addresses(next).headAddress;
  const prevHeadAddr = previous ? addresses(previous).headAddress : undefined;
  let headChanges = false;
  const headBefore = prevByName.get(next.head.name);
  const keepWorkers =
    !!previous &&
    headBefore?.role === 'head' &&
    workersOutliveHead(
      desiredSpec(next, next.head, next.head.host, undefined),
      desiredSpec(previous, headBefore, headBefore.host, undefined),
    );
  for (const node of [next.head, ...next.workers]) {
    const before = prevByName.get(node.name);
    if (!previous || !before) {
      items.push(item(node, 'start', previous ? 'new node' : 'no previous config'));
      if (node.role === 'head') headChanges = true;
      continue;
    }
    const drift = specDrift(
      desiredSpec(previous, before, before.host, prevHeadAddr),
      desiredSpec(next, node, node.host, headAddr),
    );
    if (before.sshUrl !== node.sshUrl) drift.unshift({ field: 'ssh_url', from: before.sshUrl, to: node.sshUrl });
    drift.unshift(...versionDrift(previous.rayVersion, next.rayVersion));
    if (drift.length) {
      items.push(item(node, 'restart', 'config changed', drift));
      if (node.role === 'head') headChanges = true;
    } else if (node.role === 'worker' && headChanges && !keepWorkers) {
      items.push(item(node, 'restart', 'the head restarts'));
    } else {
      items.push(item(node, 'keep', 'unchanged'));
    }
  }
  const names = new Set(next.nodes.map((n) => n.name));
  for (const gone of previous?.nodes ?? []) {
    if (!names.has(gone.name)) items.push(item(gone, 'stop', 'removed from config'));
  }
  return withDisruption(items, next.rollout, keepWorkers);
}

/** What one node looks like now, as the live plan needs it. */
export interface LiveNode {
  reachable: boolean;
  running: boolean;
  applied: AppliedSpec | null;
  /** Workers: listed alive in the head's view (undefined when the head's view is unknown). */
  alive?: boolean;
  /** While running: the Ray version its processes were started with. */
  rayVersion?: string;
  /** While running: the `python` its PATH finds first, when that is not Ray's interpreter (`to`). */
  pathDrift?: Drift;
  /** Packages of ray_spec.install not as required in the venv nokube manages there (environment.ts). */
  packages?: { drift: Drift[]; restart: boolean };
  /** Whether the node's supervisor runs and looks after Ray (undefined: unknown, an older library). */
  supervised?: boolean;
  error?: string;
}

/** A ray_version change: the node runs another Ray than the config wants (an upgrade or downgrade). */
function versionDrift(from: string | undefined, to: string | undefined): Drift[] {
  return from && to && from !== to ? [{ field: 'ray_spec.ray_version', from, to }] : [];
}

export function livePlan(
  next: ClusterConfig,
  wanted: Map<string, AppliedSpec>,
  live: Map<string, LiveNode>,
  members: ClusterMember[] = [],
): PlanItem[] {
  const items: PlanItem[] = [];
  let headStarts = false;
  // GCS fault tolerance: a head back on the Redis it ran with keeps the running workers
  const keepWorkers = workersOutliveHead(wanted.get(next.head.name), live.get(next.head.name)?.applied);
  for (const node of [next.head, ...next.workers]) {
    const now = live.get(node.name);
    const want = wanted.get(node.name)!;
    let planned: PlanItem;
    if (!now || !now.reachable) {
      planned = item(node, 'start', `unreachable${now?.error ? `: ${now.error}` : ''}`);
    } else if (!now.running) {
      planned = item(node, 'start', 'not running');
    } else {
      const drift = [
        ...versionDrift(now.rayVersion, next.rayVersion),
        ...specDrift(now.applied, want),
        ...(now.pathDrift ? [now.pathDrift] : []),
        ...(now.packages?.restart ? now.packages.drift : []),
      ];
      const packages = now.packages && !now.packages.restart ? now.packages.drift : [];
      if (drift.length) planned = item(node, 'restart', 'drifted from config', drift);
      else if (node.role === 'worker' && headStarts && !keepWorkers)
        planned = item(node, 'restart', 'the head restarts', packages);
      else if (now.alive === false) planned = item(node, 'restart', "not alive in the head's view", packages);
      else if (next.restart === 'always' && now.supervised === false)
        planned = item(node, 'restart', 'running without its supervisor (ray_spec.restart: always)', packages);
      else if (next.restart === 'never' && now.supervised === true)
        planned = item(node, 'restart', 'supervised, but ray_spec.restart is never', packages);
      else if (packages.length)
        planned = item(
          node,
          'keep',
          'packages installed next to the running Ray (no package Ray imports changes)',
          packages,
        );
      else planned = item(node, 'keep', 'running as configured');
    }
    if (node.role === 'head' && planned.action !== 'keep') headStarts = true;
    items.push(planned);
  }
  const names = new Set(next.nodes.map((n) => n.name));
  for (const m of members) {
    if (!names.has(m.name)) {
      const host = m.ssh_url.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
      items.push({ node: m.name, role: m.role, host, action: 'stop', drift: [], reason: 'removed from config' });
    }
  }
  return withDisruption(items, next.rollout, keepWorkers);
}

export function countChanges(plan: PlanItem[]): number {
  return plan.filter((p) => p.action !== 'keep').length;
}

/**
 * A live plan in which some nodes could not be looked at: each of those gets its item from the config
 * diff instead (previous config against this one), marked "live state unknown", so a pull request's
 * plan from a runner without a route to the nodes still shows what the change does.
 */
export function withUnknownLiveState(
  live: PlanItem[],
  offline: PlanItem[],
  unknown: Map<string, string>,
  next: ClusterConfig,
): PlanItem[] {
  if (!unknown.size) return live;
  const fromDiff = new Map(offline.map((p) => [p.node, p]));
  const merged = live.map((p) => {
    const diff = fromDiff.get(p.node);
    if (!unknown.has(p.node) || !diff) return p;
    return { ...diff, reason: `${diff.reason} (live state unknown: ${unknown.get(p.node)})`, liveStateUnknown: true };
  });
  // a head that restarts (by either view) takes every worker with it
  const head = merged.find((p) => p.role === 'head');
  const keepWorkers = !!next.gcsFaultTolerance && !head?.drift.some((d) => d.field === 'ray_spec.gcs_fault_tolerance');
  const headRestarts =
    !keepWorkers && merged.some((p) => p.role === 'head' && p.action !== 'keep' && p.action !== 'stop');
  for (const [i, p] of merged.entries()) {
    if (headRestarts && p.role === 'worker' && p.action === 'keep') {
      merged[i] = {
        ...p,
        action: 'restart',
        reason: `the head restarts${p.liveStateUnknown ? ' (live state unknown)' : ''}`,
      };
    }
  }
  return withDisruption(merged, next.rollout, keepWorkers);
}
