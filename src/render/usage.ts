// What the cluster is doing (`status`): used / total of each resource and the work waiting for
// resources, in the words of Ray's own `ray status`, for the terminal, the job summary and `--watch`.
import { RESOURCE_RAY_KEYS } from '../config/ray-keys';
import type { ClusterUsage, PendingDemand, ResourceUse, RunResult } from '../engine/types';
import { formatBytes } from '../words/bytes';

export function amount(name: string, n: number): string {
  if (/memory/.test(name)) return formatBytes(n);
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100);
}

function rank(name: string): number {
  const i = RESOURCE_RAY_KEYS.findIndex((k) => k.resource === name);
  return i === -1 ? RESOURCE_RAY_KEYS.length : i;
}

/** `CPU 2/8, GPU 0/1, memory 0 B/7.5 GiB, object_store_memory 1.0 MiB/1.9 GiB, custom 1/4`. */
export function formatUsage(usage: Record<string, ResourceUse>): string {
  return Object.keys(usage)
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((k) => `${k} ${amount(k, usage[k].used)}/${amount(k, usage[k].total)}`)
    .join(', ');
}

/** `{CPU: 4, GPU: 1}`, as `ray status` writes a bundle. */
function bundleText(resources: Record<string, number>): string {
  const keys = Object.keys(resources).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return `{${keys.map((k) => `${k}: ${amount(k, resources[k])}`).join(', ')}}`;
}

/** One pending demand: `{CPU: 64}: 1+ pending tasks/actors`, `{CPU: 4} * 2 (PACK): 1+ pending placement groups`. */
export function demandText(d: PendingDemand): string {
  if (d.kind === 'placement-group') {
    const shape = d.bundles.map((b) => `${bundleText(b.resources)} * ${b.count}`).join(', ');
    return `${shape} (${d.strategy}): ${d.count}+ pending placement group${d.count === 1 ? '' : 's'}`;
  }
  const shape = bundleText(d.bundles[0]?.resources ?? {});
  if (d.kind === 'requested') return `${shape}: ${d.count} from request_resources()`;
  return `${shape}: ${d.count}+ pending tasks/actors`;
}

/** The cluster's used / total in one line, or why it is not known. */
export function usageTotalText(usage: ClusterUsage): string {
  if (!usage.known) return `unknown (${usage.why ?? 'Ray did not say'})`;
  return formatUsage(usage.total) || 'none';
}

/** The pending demand in one line: `none`, or each demand joined by `; `. */
export function pendingText(usage: ClusterUsage): string {
  if (!usage.known) return 'unknown';
  return usage.pending.length ? usage.pending.map(demandText).join('; ') : 'none';
}

/** The terminal's lines after the node table: resources in total, then the pending demand. */
export function usageTerminalLines(result: RunResult, bold: (text: string) => string): string[] {
  const usage = result.usage;
  if (!usage) return [];
  const out = ['', `${bold('resources')} (used/total): ${usageTotalText(usage)}`];
  if (!usage.known) return out;
  if (!usage.pending.length) out.push(`${bold('pending demand')}: none`);
  else out.push(bold('pending demand'), ...usage.pending.map((d) => `  ${demandText(d)}`));
  return out;
}
