import { describe, expect, it } from 'vitest';
import { desiredSpec } from '../../src/engine/decisions/desired';
import { assessCluster, resourceMismatches, type NodeObservation } from '../../src/engine/decisions/health';
import type { AppliedSpec, ViewNode } from '../../src/remote/types';
import { threeNodes } from './fixtures';

const c = threeNodes(2);
const wanted = new Map<string, AppliedSpec>(c.nodes.map((n) => [n.name, desiredSpec(c, n, n.host, '10.0.0.1:6379')]));

function view(overrides: Partial<Record<string, Partial<ViewNode>>> = {}): ViewNode[] {
  return c.nodes.map((n, i) => ({
    node_id: `id${i}`,
    node_ip: n.host,
    alive: true,
    name: n.name,
    resources: { CPU: n.ray.numCpus ?? 0, memory: 1e9, object_store_memory: 5e8 },
    labels: { 'nokube.io/node': n.name },
    ...overrides[n.name],
  }));
}

function observe(v: ViewNode[] | undefined, running: Record<string, boolean> = {}): Map<string, NodeObservation> {
  return new Map(
    c.nodes.map((n) => [
      n.name,
      {
        reachable: true,
        status: {
          ok: true,
          running: running[n.name] ?? true,
          applied: wanted.get(n.name)!,
          ray_version: '2.60.0',
          ...(n.role === 'head' ? { cluster: v } : {}),
        },
      },
    ]),
  );
}

describe('cluster status', () => {
  it('healthy: every node alive in the head view with its configured resources', () => {
    const a = assessCluster(c, wanted, observe(view()));
    expect(a.status).toBe('healthy');
    expect(a.alive).toBe(3);
    expect(a.nodes.map((n) => n.state)).toEqual(['running', 'running', 'running']);
    expect(a.nodes[1].resources?.CPU).toBe(2);
  });

  it('a rebooted worker (started once, no Ray process now) is missing, not stopped', () => {
    const a = assessCluster(c, wanted, observe(view({ w2: { alive: false } }), { w2: false }));
    expect(a.status).toBe('degraded');
    expect(a.nodes.find((n) => n.name === 'w2')!.state).toBe('missing');
  });

  it('degraded: a worker whose raylet died is not alive in the head view', () => {
    const a = assessCluster(c, wanted, observe(view({ w2: { alive: false } })));
    expect(a.status).toBe('degraded');
    expect(a.alive).toBe(2);
    expect(a.nodes[2].state).toBe('missing');
    expect(a.problems.join()).toMatch(/w2 .* not alive in the head's view/);
  });

  it('degraded: a node alive with other resources than configured', () => {
    const a = assessCluster(c, wanted, observe(view({ w1: { resources: { CPU: 1 } } })));
    expect(a.status).toBe('degraded');
    expect(a.nodes[1].state).toBe('drifted');
    expect(a.nodes[1].error).toContain('CPU 1 (configured 2)');
  });

  it('down: the head is unreachable', () => {
    const obs = observe(view());
    obs.set('head', { reachable: false, error: 'connect ECONNREFUSED' });
    const a = assessCluster(c, wanted, obs);
    expect(a.status).toBe('down');
    expect(a.nodes[0]).toMatchObject({ state: 'unreachable', error: 'connect ECONNREFUSED' });
  });

  it('stopped: every node reachable and none runs Ray', () => {
    const a = assessCluster(c, wanted, observe(undefined, { head: false, w1: false, w2: false }));
    expect(a.status).toBe('stopped');
    expect(a.alive).toBe(0);
  });

  it('down, not stopped: a worker still runs while the head does not', () => {
    const a = assessCluster(c, wanted, observe(undefined, { head: false, w1: true, w2: false }));
    expect(a.status).toBe('down');
  });

  it('memory sizes tolerate Ray rounding, counts do not', () => {
    const n = { ...c.workers[0], ray: { numCpus: 2, objectStoreMemory: 1_000_000_000 } };
    expect(resourceMismatches(n, { CPU: 2, object_store_memory: 999_999_000 })).toEqual([]);
    expect(resourceMismatches(n, { CPU: 3, object_store_memory: 1e9 })).toEqual(['CPU 3 (configured 2)']);
  });
});
