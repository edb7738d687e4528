// The Action's outputs, computed once from a RunResult: the Action sets them, `--json` prints them.
import type { ClusterCheck, ClusterUsage, PendingDemand, ResourceUse, RunResult } from '../engine/types';

export interface NodeOutput {
  name: string;
  role: 'head' | 'worker';
  host: string;
  state: string;
  ray_version: string | null;
  resources: Record<string, number> | null;
  /** `status`: used / total of each resource on the node, when Ray said. */
  usage?: Record<string, ResourceUse>;
  /** Restarts by the node's supervisor since the last deploy (null: status did not look). */
  restarts: number | null;
  /** The last of them: when (ISO), which process, and why (exit code or signal). */
  last_restart: { at: string; process: string; why: string; exit_code?: number | null; signal?: string } | null;
  /** The node's supervision: launcher (systemd, systemd-user, cron, detached) and state. */
  supervision: { launcher: string; state: string } | null;
}

/** The `resources` output: what the cluster is doing (`status`). */
export interface ResourcesOutput {
  /** false: Ray did not say (`why`); the other fields are then empty. */
  known: boolean;
  why?: string;
  /** When Ray measured it, ISO 8601. */
  measured_at?: string;
  total: Record<string, ResourceUse>;
  pending: PendingDemand[];
}

export interface RunOutputs {
  status: string;
  'head-address': string;
  'client-address': string;
  'dashboard-url': string;
  nodes: NodeOutput[];
  'alive-nodes': number;
  'expected-nodes': number;
  changes: number;
  /** Restarts of every node since the last deploy, summed (status). */
  restarts: number;
  plan: NonNullable<RunResult['plan']>;
  'job-id': string;
  'job-status': string;
  /** `status`: CPUs in use and in all, over the alive nodes ('' when not known). */
  'cpus-used': number | '';
  'cpus-total': number | '';
  resources: ResourcesOutput | null;
  /** `check`: every pair of nodes and how its object moved, the ports that did not answer (unset otherwise). */
  check?: ClusterCheck;
}

export function runOutputs(result: RunResult): RunOutputs {
  return {
    status: result.status,
    'head-address': result.headAddress ?? '',
    'client-address': result.clientAddress ?? '',
    'dashboard-url': result.dashboardUrl ?? '',
    nodes: result.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      host: n.host,
      state: n.state,
      ray_version: n.rayVersion ?? null,
      resources: n.resources ?? null,
      ...(n.usage ? { usage: n.usage } : {}),
      restarts: n.supervision ? n.supervision.restarts : null,
      last_restart: n.supervision?.lastRestart
        ? {
            at: n.supervision.lastRestart.at,
            process: n.supervision.lastRestart.process,
            why: n.supervision.lastRestart.why,
            ...(n.supervision.lastRestart.exitCode !== undefined
              ? { exit_code: n.supervision.lastRestart.exitCode }
              : {}),
            ...(n.supervision.lastRestart.signal ? { signal: n.supervision.lastRestart.signal } : {}),
          }
        : null,
      supervision: n.supervision ? { launcher: n.supervision.launcher, state: n.supervision.state } : null,
    })),
    'alive-nodes': result.aliveNodes,
    'expected-nodes': result.expectedNodes,
    changes: result.changes,
    restarts: result.nodes.reduce((sum, n) => sum + (n.supervision?.restarts ?? 0), 0),
    plan: result.plan ?? [],
    'job-id': result.job?.job_id ?? '',
    'job-status': result.job?.status ?? '',
    ...usageOutputs(result.usage),
    ...(result.check ? { check: result.check } : {}),
  };
}

function usageOutputs(usage: ClusterUsage | undefined): Pick<RunOutputs, 'cpus-used' | 'cpus-total' | 'resources'> {
  if (!usage) return { 'cpus-used': '', 'cpus-total': '', resources: null };
  const cpu = usage.known ? usage.total.CPU : undefined;
  return {
    'cpus-used': cpu ? cpu.used : '',
    'cpus-total': cpu ? cpu.total : '',
    resources: {
      known: usage.known,
      ...(usage.why ? { why: usage.why } : {}),
      ...(usage.measuredAt ? { measured_at: new Date(usage.measuredAt).toISOString() } : {}),
      total: usage.total,
      pending: usage.pending,
    },
  };
}

/** Errors of a failed run for machines: config diagnostics first, then node errors. */
export function runErrors(result: RunResult): { node: string | null; message: string; hint: string | null }[] {
  return [
    ...result.diagnostics
      .filter((d) => d.severity === 'error')
      .map((d) => ({
        node: d.node ?? null,
        message: `${d.file}:${d.line}:${d.col}: ${d.path ? `${d.path}: ` : ''}${d.message}`,
        hint: d.hint ?? null,
      })),
    ...result.errors.map((e) => ({ node: e.node ?? null, message: e.message, hint: e.hint ?? null })),
  ];
}
