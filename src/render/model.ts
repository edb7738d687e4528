// What every view of a RunResult shows, as plain (unescaped) strings: the status line, the node and
// plan rows, counts. Markdown and terminal renderers only differ in how they lay these out.
import { RESOURCE_RAY_KEYS } from '../config/ray-keys';
import type { Diagnostic, NodeSpec } from '../config/types';
import type { Drift, NodeReport, PlanAction, PlanItem, RunResult } from '../engine/types';
import { formatBytes } from '../words/bytes';
import { formatUsage } from './usage';

export { formatBytes };

export const NODE_COLUMNS = ['node', 'role', 'host', 'state', 'Ray version', 'resources', 'error'] as const;
export const PLAN_COLUMNS = ['node', 'action', 'disruption', 'changes', 'reason'] as const;

export type Row = string[];

export interface PlanCounts {
  start: number;
  restart: number;
  keep: number;
  stop: number;
  /** Items planned from the config diff because the node could not be looked at. */
  unknown?: number;
}

export function planCounts(plan: PlanItem[] | undefined): PlanCounts {
  const counts: PlanCounts = { start: 0, restart: 0, keep: 0, stop: 0 };
  for (const item of plan ?? []) {
    counts[item.action] += 1;
    if (item.liveStateUnknown) counts.unknown = (counts.unknown ?? 0) + 1;
  }
  return counts;
}

export function errorDiagnostics(result: RunResult): Diagnostic[] {
  return result.diagnostics.filter((d) => d.severity === 'error');
}

export function isInvalid(result: RunResult): boolean {
  return errorDiagnostics(result).length > 0;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function countsText(c: PlanCounts): string {
  const unknown = c.unknown
    ? ` (live state unknown for ${plural(c.unknown, 'node')}: planned from the config diff)`
    : '';
  return `${c.start} to start, ${c.restart} to restart, ${c.keep} to keep, ${c.stop} to stop${unknown}`;
}

/**
 * The one or two words a reader looks for first: the cluster's status for start/status/stop, the
 * verdict for validate and plan (whose cluster status is not looked at offline).
 */
export function headline(result: RunResult): string {
  const failed = result.ok ? '' : ', failed';
  if (isInvalid(result)) return 'invalid config';
  if (result.command === 'validate') return `valid config${failed}`;
  if (result.command === 'plan') return `${result.changes} change${result.changes === 1 ? '' : 's'}${failed}`;
  if (result.command === 'job' && result.job) return `job ${result.job.status.toLowerCase()}${failed}`;
  return `${result.status}${failed}`;
}

/** One sentence saying how the run ended, in plain words (no emoji). */
export function statusLine(result: RunResult): string {
  const cluster = result.clusterName ? `Cluster ${result.clusterName}` : 'Cluster';
  const errors = errorDiagnostics(result).length;
  const warnings = result.diagnostics.length - errors;
  if (errors > 0) {
    return `Config ${result.configPath} is invalid: ${plural(errors, 'error')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}. Nothing was changed.`;
  }
  const failed = result.ok ? '' : ` The ${result.command} failed: ${plural(result.errors.length, 'error')}.`;
  const alive = `${result.aliveNodes} of ${result.expectedNodes} nodes alive`;
  switch (result.command) {
    case 'validate':
      return `Config ${result.configPath} is valid: ${plural(result.expectedNodes, 'node')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}.${failed}`;
    case 'plan':
      return `Plan for ${result.configPath}: ${countsText(planCounts(result.plan))} (${plural(result.changes, 'change')}).${failed}`;
    case 'stop':
      return `${cluster} is ${result.status}.${failed}`;
    case 'job':
      return result.job
        ? `Job ${result.job.job_id} ended ${result.job.status} on ${cluster.toLowerCase()}.${failed}`
        : `${cluster} is ${result.status}.${failed}`;
    default:
      return `${cluster} is ${result.status}: ${alive}.${failed}`;
  }
}

/** A compact resources cell: `CPU 8, GPU 1, memory 7.5 GiB, object_store_memory 1.9 GiB, custom 2`. */
export function formatResources(resources: Record<string, number> | undefined): string {
  if (!resources) return '';
  const order = RESOURCE_RAY_KEYS.map((k) => k.resource);
  const keys = Object.keys(resources)
    // Ray adds `node:<ip>` and `node:__internal_head__` to every node: noise in a table.
    .filter((k) => !k.startsWith('node:'))
    .sort((a, b) => rank(a, order) - rank(b, order) || a.localeCompare(b));
  return keys
    .map((k) => `${k} ${/memory/.test(k) ? formatBytes(resources[k]) : formatNumber(resources[k])}`)
    .join(', ');
}

function rank(key: string, order: string[]): number {
  const i = order.indexOf(key);
  return i === -1 ? order.length : i;
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** The resources a node is configured with, in Ray's resource names (shown before Ray reports any). */
export function configuredResources(spec: NodeSpec | undefined): Record<string, number> | undefined {
  if (!spec) return undefined;
  const r: Record<string, number> = {};
  for (const { model, resource } of RESOURCE_RAY_KEYS) {
    const value = spec.ray[model];
    if (typeof value === 'number') r[resource] = value;
  }
  Object.assign(r, spec.ray.resources ?? {});
  return Object.keys(r).length ? r : undefined;
}

function nodeResources(node: NodeReport, specs: Map<string, NodeSpec>): string {
  if (node.usage) return formatUsage(node.usage);
  if (node.resources) return formatResources(node.resources);
  const configured = configuredResources(specs.get(node.name));
  return configured ? `${formatResources(configured)} (configured)` : '';
}

export function nodeRows(result: RunResult): Row[] {
  // By name once: looking each node up in the list made a 17,000-node summary take minutes.
  const specs = new Map((result.config?.nodes ?? []).map((n) => [n.name, n]));
  return result.nodes.map((n) => [
    n.name,
    n.role,
    n.host,
    n.state,
    n.rayVersion ?? '',
    nodeResources(n, specs),
    n.error ?? '',
  ]);
}

export const SUPERVISION_COLUMNS = ['node', 'supervised by', 'state', 'restarts', 'last restart'] as const;

/** Per node: its supervisor's launcher and state, restarts since the last deploy and the last one's why. */
export function supervisionRows(result: RunResult): Row[] {
  return result.nodes
    .filter((n) => n.supervision)
    .map((n) => {
      const s = n.supervision!;
      const last = s.lastRestart ? `${s.lastRestart.at}: ${s.lastRestart.process} ${s.lastRestart.why}` : '';
      return [n.name, s.launcher, s.state, String(s.restarts), last];
    });
}

export function driftText(drift: Drift[], max = Infinity): string {
  const shown = drift.slice(0, max).map((d) => `${d.field}: ${d.from || '(none)'} → ${d.to || '(none)'}`);
  if (drift.length > max) shown.push(`and ${drift.length - max} more`);
  return shown.join('; ');
}

export function planRows(result: RunResult, maxDrift = Infinity): Row[] {
  return (result.plan ?? []).map((p) => [p.node, p.action, p.disruption ?? '', driftText(p.drift, maxDrift), p.reason]);
}

/** Warnings not already shown as a diagnostic (the engine copies config warnings into `warnings`). */
export function extraWarnings(result: RunResult): string[] {
  const fromDiagnostics = new Set(result.diagnostics.map((d) => `${d.path}: ${d.message}`));
  return result.warnings.filter((w) => !fromDiagnostics.has(w));
}

/** Nodes the config does not pin a host key for: the deploy then needs them in known-hosts. */
export function unpinnedHostKeys(result: RunResult): string[] {
  return (result.config?.nodes ?? []).filter((n) => !n.hostKey).map((n) => n.name);
}

export function diagnosticLocation(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}`;
}

export const ACTION_ORDER: PlanAction[] = ['start', 'restart', 'stop', 'keep'];

/** Where a rolling apply left the changed nodes: "done: w1, w2; failed: w3; untouched: w4". */
export function rolloutText(result: RunResult): string | undefined {
  const r = result.rollout;
  if (!r || (!r.failed.length && !r.untouched.length)) return undefined;
  const part = (label: string, names: string[]) => `${label}: ${names.length ? names.join(', ') : 'none'}`;
  return [part('done', r.done), part('failed', r.failed), part('untouched', r.untouched)].join('; ');
}
