// GCS fault tolerance in the engine's pure parts: what each node is started with, the drift a change
// of it shows, what the plan says a head restart does, and the head's Redis check as a preflight problem.
import { describe, expect, it } from 'vitest';
import { desiredSpec, specDrift } from '../../src/engine/decisions/desired';
import { clusterDisruption } from '../../src/engine/decisions/disruption';
import { livePlan, offlinePlan, type LiveNode } from '../../src/engine/decisions/plan-diff';
import {
  gcsStateCleared,
  headRestartWords,
  redisPassword,
  redisProblem,
} from '../../src/engine/decisions/gcs-fault-tolerance';
import type { ProbeAnswer } from '../../src/remote/types';
import { renderPlanText } from '../../src/render';
import type { RunResult } from '../../src/engine/types';
import { cluster, node } from './fixtures';

const withRedis = () =>
  cluster([node('h', 'head', '10.0.0.1'), node('w', 'worker', '10.0.0.2')], {
    clusterName: 'prod',
    gcsFaultTolerance: { redisAddress: '10.0.0.7:6379', redisPassword: '${RDS_PW}' },
  });
const without = () => cluster([node('h', 'head', '10.0.0.1'), node('w', 'worker', '10.0.0.2')]);

describe('GCS fault tolerance: the nodes start specs', () => {
  it('the head keeps its state in the Redis under the cluster name; workers wait 300 s for it', () => {
    const c = withRedis();
    const head = desiredSpec(c, c.head, '10.0.0.1', undefined);
    const worker = desiredSpec(c, c.workers[0]!, '10.0.0.2', '10.0.0.1:6379');
    expect(head.redis).toEqual({ address: '10.0.0.7:6379', namespace: 'prod' });
    expect(head).not.toHaveProperty('gcs_reconnect_timeout_s');
    expect(worker.gcs_reconnect_timeout_s).toBe(300);
    expect(worker).not.toHaveProperty('redis');
    // the password never reaches the spec stored on the node and shown as drift
    expect(JSON.stringify([head, worker])).not.toContain('RDS_PW');
  });

  it('without a Redis, workers give up on a lost head after 30 s, to be restarted into the new one', () => {
    const c = without();
    expect(desiredSpec(c, c.workers[0]!, '10.0.0.2', '10.0.0.1:6379').gcs_reconnect_timeout_s).toBe(30);
    expect(desiredSpec(c, c.head, '10.0.0.1', undefined)).not.toHaveProperty('redis');
  });

  it('turning it on is drift on every node, named by its key', () => {
    const before = without();
    const after = withRedis();
    const headDrift = specDrift(
      desiredSpec(before, before.head, '10.0.0.1', undefined),
      desiredSpec(after, after.head, '10.0.0.1', undefined),
    );
    expect(headDrift).toContainEqual({
      field: 'ray_spec.gcs_fault_tolerance',
      from: '(unset)',
      to: '10.0.0.7:6379 (namespace prod)',
    });
    const workerDrift = specDrift(
      desiredSpec(before, before.workers[0]!, '10.0.0.2', '10.0.0.1:6379'),
      desiredSpec(after, after.workers[0]!, '10.0.0.2', '10.0.0.1:6379'),
    );
    expect(workerDrift).toEqual([{ field: 'wait for a restarting head', from: '30 s', to: '300 s' }]);
    expect(
      specDrift(
        desiredSpec(after, after.head, '10.0.0.1', undefined),
        desiredSpec(after, after.head, '10.0.0.1', undefined),
      ),
    ).toEqual([]);
  });
});

describe('GCS fault tolerance: words and checks', () => {
  it('says what a head restart does, with and without', () => {
    expect(headRestartWords(withRedis())).toMatch(/^workers and actors kept/);
    expect(headRestartWords(without())).toMatch(/^every worker restarts, running work is lost/);
    const result = { plan: [], headRestart: headRestartWords(without()) } as unknown as RunResult;
    expect(renderPlanText(result)).toContain(
      'If the head restarts: every worker restarts, running work is lost (no ray_spec.gcs_fault_tolerance).',
    );
  });

  it('reads the password from the environment, or nothing when unset', () => {
    expect(redisPassword(withRedis(), { RDS_PW: 'pw-1' })).toBe('pw-1');
    expect(redisPassword(withRedis(), {})).toBeUndefined();
    expect(redisPassword(without(), { RDS_PW: 'pw-1' })).toBeUndefined();
  });

  it("the head's failed Redis check is a problem on the head, with the hint", () => {
    const probe = {
      redis: {
        address: '10.0.0.7:6379',
        ok: false,
        error: 'the Redis at 10.0.0.7:6379 refused the password',
        hint: 'h',
      },
    } as unknown as ProbeAnswer;
    expect(redisProblem(withRedis(), probe)).toEqual({
      node: 'h',
      host: '10.0.0.1:22',
      message: 'the Redis at 10.0.0.7:6379 refused the password',
      hint: 'h',
    });
    expect(redisProblem(withRedis(), { redis: { address: 'x', ok: true } } as unknown as ProbeAnswer)).toBeUndefined();
  });
});

describe('GCS fault tolerance: a head restart in the plan', () => {
  const live = (c: ReturnType<typeof withRedis>, headRunning: boolean, headApplied = true) => {
    const wanted = new Map(c.nodes.map((n) => [n.name, desiredSpec(c, n, n.host, '10.0.0.1:6379')]));
    const now = new Map<string, LiveNode>([
      ['h', { reachable: true, running: headRunning, applied: headApplied ? wanted.get('h')! : null }],
      ['w', { reachable: true, running: true, applied: wanted.get('w')!, ...(headRunning ? { alive: true } : {}) }],
    ]);
    return { wanted, now };
  };

  it('a head that died comes back on its Redis: the running workers are kept', () => {
    const c = withRedis();
    const { wanted, now } = live(c, false);
    const plan = livePlan(c, wanted, now);
    expect(plan.map((p) => [p.node, p.action])).toEqual([
      ['h', 'start'],
      ['w', 'keep'],
    ]);
    expect(clusterDisruption(plan, c.rollout, 1)).toMatch(/^the head starts again on its Redis: the running workers/);
  });

  it('without a Redis (or a head new to it), the workers restart with the head', () => {
    const c = without();
    const wanted = new Map(c.nodes.map((n) => [n.name, desiredSpec(c, n, n.host, '10.0.0.1:6379')]));
    const now = new Map<string, LiveNode>([
      ['h', { reachable: true, running: false, applied: wanted.get('h')! }],
      ['w', { reachable: true, running: true, applied: wanted.get('w')! }],
    ]);
    expect(livePlan(c, wanted, now).map((p) => p.action)).toEqual(['start', 'restart']);
    const r = withRedis();
    const fresh = live(r, false, false);
    expect(livePlan(r, fresh.wanted, fresh.now).map((p) => p.action)).toEqual(['start', 'restart']);
  });

  it('offline: a head-only change keeps the workers when both configs name the same Redis', () => {
    const before = withRedis();
    const after = withRedis();
    after.head.ray = { ...after.head.ray, numCpus: 4 };
    const plan = offlinePlan(after, before);
    expect(plan.map((p) => [p.node, p.action])).toEqual([
      ['h', 'restart'],
      ['w', 'keep'],
    ]);
    expect(plan[0]!.disruption).toMatch(/workers and their actors kept/);
    const noRedis = without();
    const changed = without();
    changed.head.ray = { ...changed.head.ray, numCpus: 4 };
    expect(offlinePlan(changed, noRedis).map((p) => p.action)).toEqual(['restart', 'restart']);
  });
});

describe("GCS fault tolerance: stop clears the cluster's state in Redis", () => {
  it('says how many keys went, and nothing for a head without a Redis', () => {
    expect(gcsStateCleared({ address: '10.0.0.7:6379', namespace: 'prod', keys: 41 })).toEqual({
      words: "; cleared the cluster's GCS state in Redis 10.0.0.7:6379 (namespace prod, 41 keys)",
    });
    expect(gcsStateCleared({ address: 'r:6379', namespace: 'prod', keys: 1 }).words).toMatch(/1 key\)$/);
    expect(gcsStateCleared(undefined)).toEqual({ words: '' });
  });

  it('a Redis that did not answer is a warning naming it and what to do, not a failure', () => {
    const out = gcsStateCleared({
      address: '10.0.0.7:6379',
      namespace: 'prod',
      error:
        'the Redis at 10.0.0.7:6379 (ray_spec.gcs_fault_tolerance.redis_address) cannot be reached from the head: connection refused',
      hint: 'run stop again once it answers',
    });
    expect(out.words).toBe("; the cluster's GCS state in Redis 10.0.0.7:6379 was not cleared");
    expect(out.warning).toBe(
      "the cluster's GCS state was not cleared from Redis (namespace prod), so the next start would recover the stopped cluster: the Redis at 10.0.0.7:6379 (ray_spec.gcs_fault_tolerance.redis_address) cannot be reached from the head: connection refused; run stop again once it answers",
    );
  });
});
