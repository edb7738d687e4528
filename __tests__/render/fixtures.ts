// Hand-built RunResults for the renderers (no engine, no parser).
import type { Diagnostic } from '../../src/config/types';
import type { NodeReport, PlanItem, RunResult } from '../../src/engine/types';

export function result(extra: Partial<RunResult> = {}): RunResult {
  return {
    command: 'status',
    configPath: 'ray-config.yaml',
    ok: true,
    status: 'healthy',
    clusterName: 'prod',
    headAddress: '10.0.0.1:6379',
    clientAddress: 'ray://10.0.0.1:10001',
    dashboardUrl: 'http://10.0.0.1:8265',
    nodes: [
      nodeReport('ray-head', 'head', '10.0.0.1', {
        state: 'running',
        rayVersion: '2.40.0',
        resources: { CPU: 8, memory: 8 * 1024 ** 3, 'node:10.0.0.1': 1 },
      }),
      nodeReport('ray-w1', 'worker', '10.0.0.2', {
        state: 'running',
        rayVersion: '2.40.0',
        resources: { CPU: 4, GPU: 1 },
      }),
    ],
    aliveNodes: 2,
    expectedNodes: 2,
    changes: 0,
    diagnostics: [],
    errors: [],
    warnings: [],
    timings: [
      { phase: 'connect', ms: 420 },
      { phase: 'total', ms: 1830 },
    ],
    ...extra,
  };
}

export function nodeReport(
  name: string,
  role: 'head' | 'worker',
  host: string,
  extra: Partial<NodeReport> = {},
): NodeReport {
  return { name, role, host, state: 'unknown', ...extra };
}

export function planItem(node: string, action: PlanItem['action'], extra: Partial<PlanItem> = {}): PlanItem {
  return {
    node,
    role: 'worker',
    host: `${node}.example`,
    action,
    drift: [],
    reason: action === 'start' ? 'new node' : 'as configured',
    disruption: {
      start: 'start (joins the running cluster)',
      restart: 'restart (rolling)',
      keep: 'keep',
      stop: 'stop (drained first)',
    }[action],
    ...extra,
  };
}

export function diagnostic(extra: Partial<Diagnostic> = {}): Diagnostic {
  return {
    severity: 'error',
    file: 'ray-config.yaml',
    line: 3,
    col: 5,
    path: 'nodes[0].role',
    message: 'unknown role "haed"',
    hint: 'allowed: head | worker',
    ...extra,
  };
}

export function bigResult(n: number): RunResult {
  const nodes = Array.from({ length: n }, (_, i) =>
    nodeReport(
      `node-${String(i).padStart(4, '0')}-${'x'.repeat(40)}`,
      i === 0 ? 'head' : 'worker',
      `10.${i >> 8}.${i & 255}.1`,
      {
        state: i % 7 === 0 ? 'failed' : 'running',
        rayVersion: '2.40.0',
        resources: {
          CPU: 64,
          GPU: 8,
          memory: 512 * 1024 ** 3,
          object_store_memory: 100 * 1024 ** 3,
          custom_accelerator: 4,
        },
        error: i % 7 === 0 ? `ssh failed <b>${'e'.repeat(300)}</b> | pipe` : undefined,
      },
    ),
  );
  const plan = nodes.map((nd, i) =>
    planItem(nd.name, i % 3 === 0 ? 'restart' : 'keep', {
      host: nd.host,
      drift:
        i % 3 === 0
          ? Array.from({ length: 6 }, (_, k) => ({
              field: `ray_config.field_${k}`,
              from: 'a'.repeat(40),
              to: 'b'.repeat(40),
            }))
          : [],
    }),
  );
  const diagnostics = nodes.map((nd, i) =>
    diagnostic({
      severity: 'warning',
      line: i + 2,
      path: `nodes[${i}].users[0].password`,
      message: 'a plaintext password is written in the config',
      node: nd.name,
    }),
  );
  return result({
    command: 'plan',
    nodes,
    plan,
    diagnostics,
    changes: plan.filter((p) => p.action !== 'keep').length,
    expectedNodes: n,
    aliveNodes: n,
  });
}
