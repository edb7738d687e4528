// What the cluster is doing, from the head's `usage` answer (pure): per configured node by the IP
// Ray's autoscaler knows it by, the pending demand in three kinds, and `unknown` with why.
import { describe, expect, it } from 'vitest';
import { usageView } from '../../src/engine/decisions/usage';
import type { UsageAnswer, ViewNode } from '../../src/remote/types';

const node = (name: string, ip: string, alive = true): ViewNode => ({
  node_id: `id-${name}`,
  node_ip: ip,
  alive,
  name,
  resources: {},
  labels: {},
});

const ANSWER: UsageAnswer = {
  known: true,
  time: 1765141200.5,
  total: { CPU: [2, 3] },
  by_node: { '10.0.0.1': { CPU: [0, 1] }, 'id-w1': { CPU: [2, 2] }, '10.0.0.9': { CPU: [0, 8] } },
  pending: [{ resources: { CPU: 64 }, count: 3 }],
  pending_groups: [{ bundles: [{ resources: { CPU: 4 }, count: 2 }], strategy: 'PACK', count: 1 }],
  requested: [{ resources: { GPU: 1 }, count: 2 }],
};

describe('usageView', () => {
  it('maps each node ID (Ray 2.60) or IP (older Ray) to the configured node alive there; totals and pending demand as the engine reports them', () => {
    const { usage, byNode } = usageView(ANSWER, [node('head', '10.0.0.1'), node('w1', '10.0.0.2')], 'unused');
    expect(usage).toEqual({
      known: true,
      measuredAt: 1765141200500,
      total: { CPU: { used: 2, total: 3 } },
      pending: [
        { kind: 'tasks', bundles: [{ resources: { CPU: 64 }, count: 1 }], count: 3 },
        { kind: 'placement-group', bundles: [{ resources: { CPU: 4 }, count: 2 }], strategy: 'PACK', count: 1 },
        { kind: 'requested', bundles: [{ resources: { GPU: 1 }, count: 1 }], count: 2 },
      ],
    });
    expect(Object.fromEntries(byNode)).toEqual({
      head: { CPU: { used: 0, total: 1 } },
      w1: { CPU: { used: 2, total: 2 } },
    });
  });

  it('two alive nodes on one IP get no per-node figure rather than a guess; a dead entry does not count', () => {
    const { byNode } = usageView(
      ANSWER,
      [node('head', '10.0.0.1'), node('a', '10.0.0.9'), node('b', '10.0.0.9'), node('old', '10.0.0.1', false)],
      'x',
    );
    expect([...byNode.keys()]).toEqual(['head']);
  });

  it('no answer or a Ray that does not say: unknown, with why, and nothing per node', () => {
    expect(usageView(undefined, [], 'the head is not running').usage).toEqual({
      known: false,
      why: 'the head is not running',
      total: {},
      pending: [],
    });
    const r = usageView({ known: false, why: 'too old' }, [node('head', '10.0.0.1')], 'x');
    expect(r.usage.why).toBe('too old');
    expect(r.byNode.size).toBe(0);
  });
});
