// The Action's outputs, computed once from a RunResult: the Action sets them, `--json` prints them.
import type { RunResult } from '../engine/types';

export interface NodeOutput {
  name: string;
  role: 'head' | 'worker';
  host: string;
  state: string;
  ray_version: string | null;
  resources: Record<string, number> | null;
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
  plan: NonNullable<RunResult['plan']>;
  'job-id': string;
  'job-status': string;
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
    })),
    'alive-nodes': result.aliveNodes,
    'expected-nodes': result.expectedNodes,
    changes: result.changes,
    plan: result.plan ?? [],
    'job-id': result.job?.job_id ?? '',
    'job-status': result.job?.status ?? '',
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
