// What the cluster is doing, from the head's `usage` answer (Ray's autoscaler report): used / total
// in total and per configured node, and the pending demand (pure).
import type { UsageAnswer, UsedTotal, ViewNode } from '../../remote/types';
import type { ClusterUsage, PendingDemand, ResourceUse } from '../types';

export interface UsageView {
  usage: ClusterUsage;
  /** Per configured node name. */
  byNode: Map<string, Record<string, ResourceUse>>;
}

function table(raw: Record<string, UsedTotal> | undefined): Record<string, ResourceUse> {
  const out: Record<string, ResourceUse> = {};
  for (const [name, [used, total]] of Object.entries(raw ?? {})) out[name] = { used, total };
  return out;
}

const one = (resources: Record<string, number>) => ({ resources, count: 1 });

/**
 * `answer` undefined: the head was not asked (not running) or is an older library; `why` says so.
 * Ray's autoscaler keys its per-node figures by node ID (Ray 2.60) or by IP (older Ray): an ID is
 * matched to the node of the head's view, an IP to the configured node alive there (two alive nodes
 * on one IP are left without a per-node figure rather than guessed).
 */
export function usageView(answer: UsageAnswer | undefined, view: ViewNode[] | undefined, why: string): UsageView {
  const byNode = new Map<string, Record<string, ResourceUse>>();
  if (!answer) return { usage: { known: false, why, total: {}, pending: [] }, byNode };
  if (!answer.known) return { usage: { known: false, why: answer.why, total: {}, pending: [] }, byNode };
  const alive = (view ?? []).filter((v) => v.alive && v.name);
  for (const [key, raw] of Object.entries(answer.by_node)) {
    const byId = alive.find((v) => v.node_id === key);
    const there = byId ? [byId] : alive.filter((v) => v.node_ip === key);
    if (there.length === 1) byNode.set(there[0].name!, table(raw));
  }
  const pending: PendingDemand[] = [
    ...answer.pending.map((b) => ({ kind: 'tasks' as const, bundles: [one(b.resources)], count: b.count })),
    ...answer.pending_groups.map((g) => ({
      kind: 'placement-group' as const,
      bundles: g.bundles,
      strategy: g.strategy,
      count: g.count,
    })),
    ...answer.requested.map((b) => ({ kind: 'requested' as const, bundles: [one(b.resources)], count: b.count })),
  ];
  const usage: ClusterUsage = { known: true, total: table(answer.total), pending };
  if (typeof answer.time === 'number') usage.measuredAt = Math.round(answer.time * 1000);
  return { usage, byNode };
}
