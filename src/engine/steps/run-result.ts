// Building a RunResult: the one shape every command returns and both front ends render.
import type { ClusterConfig, Diagnostic } from '../../config/types';
import { addresses } from '../decisions/desired';
import type { Command, Reporter, RunError, RunResult } from '../types';

export function emptyResult(command: Command, configPath: string, diagnostics: Diagnostic[] = []): RunResult {
  return {
    command,
    configPath,
    ok: !diagnostics.some((d) => d.severity === 'error'),
    status: 'unknown',
    nodes: [],
    aliveNodes: 0,
    expectedNodes: 0,
    changes: 0,
    diagnostics,
    errors: [],
    warnings: diagnostics.filter((d) => d.severity === 'warning').map((d) => `${d.path}: ${d.message}`),
    timings: [],
  };
}

/** A result for a valid config: addresses and the unknown state of every node filled in. */
export function clusterResult(command: Command, cluster: ClusterConfig, diagnostics: Diagnostic[]): RunResult {
  const result = emptyResult(command, cluster.file, diagnostics);
  const { headAddress, clientAddress, dashboardUrl } = addresses(cluster);
  Object.assign(result, {
    headAddress,
    clientAddress,
    dashboardUrl,
    clusterName: cluster.clusterName,
    config: cluster,
  });
  result.expectedNodes = cluster.nodes.length;
  result.nodes = cluster.nodes.map((n) => ({ name: n.name, role: n.role, host: n.host, state: 'unknown' }));
  return result;
}

/** Times each phase of a run into result.timings, and tells the reporter where each begins and ends. */
export class PhaseClock {
  private readonly started = Date.now();
  constructor(
    private readonly result: RunResult,
    private readonly reporter?: Reporter,
  ) {}

  async phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    const end = this.reporter?.phase?.(name);
    try {
      return await work();
    } finally {
      end?.();
      this.result.timings.push({ phase: name, ms: Date.now() - t0 });
    }
  }

  total(): void {
    this.result.timings.push({ phase: 'total', ms: Date.now() - this.started });
  }
}

export function fail(result: RunResult, error: RunError): void {
  result.ok = false;
  result.errors.push(error);
}
