import { describe, expect, it } from 'vitest';
import { DEFAULT_ROLLOUT, type RolloutSpec } from '../../src/config/types';
import { batches, batchSize, clusterDisruption, HEAD_RESTART } from '../../src/engine/decisions/disruption';
import { offlinePlan } from '../../src/engine/decisions/plan-diff';
import { cluster, node, threeNodes } from './fixtures';

const rollout = (r: Partial<RolloutSpec>): RolloutSpec => ({ ...DEFAULT_ROLLOUT, ...r });

describe('batch size', () => {
  it('defaults to one worker at a time', () => {
    expect(batchSize(DEFAULT_ROLLOUT, 5)).toBe(1);
  });
  it('takes a count, capped at the number of workers', () => {
    expect(batchSize(rollout({ maxUnavailable: { count: 2 } }), 5)).toBe(2);
    expect(batchSize(rollout({ maxUnavailable: { count: 9 } }), 3)).toBe(3);
  });
  it('takes a percentage of the workers, rounded down but never below one', () => {
    expect(batchSize(rollout({ maxUnavailable: { percent: 50 } }), 5)).toBe(2);
    expect(batchSize(rollout({ maxUnavailable: { percent: 10 } }), 5)).toBe(1);
    expect(batchSize(rollout({ maxUnavailable: { percent: 100 } }), 4)).toBe(4);
  });
  it('splits in config order, the last batch holding the rest', () => {
    expect(batches(['w1', 'w2', 'w3', 'w4', 'w5'], 2)).toEqual([['w1', 'w2'], ['w3', 'w4'], ['w5']]);
    expect(batches([], 2)).toEqual([]);
  });
});

describe('disruption classes', () => {
  const base = cluster([
    node('head', 'head', '10.0.0.1', { port: 10001, numCpus: 1 }),
    node('w1', 'worker', '10.0.0.2', { numCpus: 8 }),
    node('w2', 'worker', '10.0.0.3', { numCpus: 8 }),
  ]);

  it('a changed worker restarts rolling; the others and the head are kept', () => {
    const next = cluster([
      node('head', 'head', '10.0.0.1', { port: 10001, numCpus: 1 }),
      node('w1', 'worker', '10.0.0.2', { numCpus: 16 }),
      node('w2', 'worker', '10.0.0.3', { numCpus: 8 }),
      node('w3', 'worker', '10.0.0.4', { numCpus: 8 }),
    ]);
    const plan = offlinePlan(next, base);
    expect(plan.map((p) => [p.node, p.disruption])).toEqual([
      ['head', 'keep'],
      ['w1', 'restart (rolling)'],
      ['w2', 'keep'],
      ['w3', 'start (joins the running cluster)'],
    ]);
    expect(clusterDisruption(plan, next.rollout, 3)).toBe(
      '1 worker restarts rolling, 1 at a time, each drained first (running tasks get up to 60 s to finish); the head and its jobs keep running',
    );
  });

  it('a changed head loses running jobs and takes every worker with it', () => {
    const next = cluster([
      node('head', 'head', '10.0.0.1', { port: 10001, numCpus: 2 }),
      node('w1', 'worker', '10.0.0.2', { numCpus: 8 }),
      node('w2', 'worker', '10.0.0.3', { numCpus: 8 }),
    ]);
    const plan = offlinePlan(next, base);
    expect(plan.map((p) => p.disruption)).toEqual([
      HEAD_RESTART,
      'restart (follows the head)',
      'restart (follows the head)',
    ]);
    expect(clusterDisruption(plan, next.rollout, 2)).toMatch(/^the head restarts: running jobs and actors are lost/);
  });

  it('no change disrupts nothing; a first start says nothing runs yet', () => {
    expect(clusterDisruption(offlinePlan(base, base), base.rollout, 2)).toBe('no running node is disrupted');
    expect(clusterDisruption(offlinePlan(threeNodes()), base.rollout, 2)).toBe('the cluster starts: nothing runs yet');
  });

  it('drain_timeout 0 says the restarted workers lose their tasks; a dropped node stops drained', () => {
    const next = cluster(
      [node('head', 'head', '10.0.0.1', { port: 10001, numCpus: 1 }), node('w1', 'worker', '10.0.0.2', { numCpus: 4 })],
      { rollout: rollout({ drainTimeoutSec: 0, maxUnavailable: { percent: 50 } }) },
    );
    const plan = offlinePlan(next, base);
    expect(plan.find((p) => p.node === 'w2')?.disruption).toBe('stop: its running tasks are lost');
    expect(clusterDisruption(plan, next.rollout, 1)).toBe(
      '1 worker restarts rolling, 1 at a time, not drained: their running tasks are lost; 1 node removed from the config stops; the head and its jobs keep running',
    );
  });
});

describe('a ray_version change is an upgrade of every node', () => {
  it('offline: the head restarts first and every worker follows, with the version as the change', () => {
    const before = cluster([node('head', 'head', '10.0.0.1', { port: 10001 }), node('w1', 'worker', '10.0.0.2')], {
      rayVersion: '2.59.0',
    });
    const after = cluster([node('head', 'head', '10.0.0.1', { port: 10001 }), node('w1', 'worker', '10.0.0.2')], {
      rayVersion: '2.60.0',
    });
    const plan = offlinePlan(after, before);
    expect(plan.map((p) => [p.node, p.action, p.disruption])).toEqual([
      ['head', 'restart', HEAD_RESTART],
      ['w1', 'restart', 'restart (follows the head)'],
    ]);
    expect(plan[0]!.drift).toContainEqual({ field: 'ray_spec.ray_version', from: '2.59.0', to: '2.60.0' });
  });
});
