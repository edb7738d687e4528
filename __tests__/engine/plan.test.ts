import { describe, expect, it } from 'vitest';
import { addresses, desiredSpec, rayArgs, specDrift, workerPortRange } from '../../src/engine/decisions/desired';
import { livePlan, offlinePlan, countChanges, type LiveNode } from '../../src/engine/decisions/plan-diff';
import type { AppliedSpec } from '../../src/remote/types';
import { cluster, node, threeNodes } from './fixtures';

function wantedOf(c = threeNodes()): Map<string, AppliedSpec> {
  return new Map(c.nodes.map((n) => [n.name, desiredSpec(c, n, n.host, '10.0.0.1:6379')]));
}

describe('desired spec', () => {
  it('passes every ray_config key to ray start, the node label included', () => {
    const c = cluster([
      node('h', 'head', '10.0.0.1', {
        port: 20002,
        gcsPort: 7000,
        dashboardPort: 8300,
        numCpus: 8,
        numGpus: 1,
        memory: 4_000_000_000,
        objectStoreMemory: 2_000_000_000,
        resources: { b: 2, a: 1 },
        labels: { zone: 'eu' },
        nodeIpAddress: '192.0.2.9',
      }),
    ]);
    expect(rayArgs(c, c.head, '10.0.0.1')).toEqual({
      node_ip_address: '192.0.2.9',
      port: 20002,
      gcs_port: 7000,
      dashboard_port: 8300,
      num_cpus: 8,
      num_gpus: 1,
      memory: 4_000_000_000,
      object_store_memory: 2_000_000_000,
      resources: { a: 1, b: 2 },
      labels: { 'nokube.io/node': 'h', zone: 'eu' },
    });
  });

  it('defaults: client 10001, gcs 6379, dashboard from ray_spec; workers carry no head-only ports', () => {
    const c = cluster([node('h', 'head', 'h.example'), node('w', 'worker', 'w.example')], { dashboardPort: 8999 });
    expect(rayArgs(c, c.head, '10.1.1.1')).toMatchObject({
      port: 10001,
      gcs_port: 6379,
      dashboard_port: 8999,
      node_ip_address: '10.1.1.1',
    });
    expect(rayArgs(c, c.workers[0], '10.1.1.2')).not.toHaveProperty('port');
    expect(addresses(c)).toEqual({
      headAddress: 'h.example:6379',
      clientAddress: 'ray://h.example:10001',
      dashboardUrl: 'http://h.example:8999',
    });
  });

  it('brackets an IPv6 head in every address', () => {
    const c = cluster([node('h', 'head', 'fd00::1', { port: 10001 })]);
    expect(addresses(c).clientAddress).toBe('ray://[fd00::1]:10001');
    expect(addresses(c).headAddress).toBe('[fd00::1]:6379');
  });

  it("the head address is the head's node_ip_address when set (what workers join); SSH may stay on IPv6", () => {
    const c = cluster([node('h', 'head', 'fd00::1', { port: 10001, nodeIpAddress: '10.0.0.1' })]);
    expect(addresses(c).headAddress).toBe('10.0.0.1:6379');
    expect(addresses(c).clientAddress).toBe('ray://[fd00::1]:10001');
  });

  it('names drifted fields in config words', () => {
    const a = threeNodes(2);
    const b = threeNodes(4);
    const drift = specDrift(
      desiredSpec(a, a.workers[0], '10.0.0.2', 'x:1'),
      desiredSpec(b, b.workers[0], '10.0.0.2', 'x:1'),
    );
    expect(drift).toEqual([{ field: 'ray_config.num_cpus', from: '2', to: '4' }]);
  });

  it('a node started outside nokube (no applied record) is drift', () => {
    const c = threeNodes();
    expect(specDrift(null, desiredSpec(c, c.head, '10.0.0.1', undefined))).toHaveLength(1);
  });
});

describe('offline plan', () => {
  it('without a previous config every node starts', () => {
    const plan = offlinePlan(threeNodes());
    expect(plan.map((p) => p.action)).toEqual(['start', 'start', 'start']);
    expect(countChanges(plan)).toBe(3);
  });

  it('an identical config keeps every node', () => {
    const plan = offlinePlan(threeNodes(), threeNodes());
    expect(plan.map((p) => [p.node, p.action])).toEqual([
      ['head', 'keep'],
      ['w1', 'keep'],
      ['w2', 'keep'],
    ]);
    expect(countChanges(plan)).toBe(0);
  });

  it('a changed worker restarts alone, with the drifted field', () => {
    const next = threeNodes();
    next.workers[1].ray.numCpus = 6;
    const plan = offlinePlan(next, threeNodes());
    expect(plan.find((p) => p.node === 'w2')).toMatchObject({
      action: 'restart',
      drift: [{ field: 'ray_config.num_cpus', from: '2', to: '6' }],
    });
    expect(plan.filter((p) => p.action === 'keep').map((p) => p.node)).toEqual(['head', 'w1']);
  });

  it('a changed head restarts every worker too', () => {
    const next = threeNodes();
    next.head.ray.numCpus = 4;
    const plan = offlinePlan(next, threeNodes());
    expect(plan.map((p) => p.action)).toEqual(['restart', 'restart', 'restart']);
    expect(plan[1].reason).toBe('the head restarts');
  });

  it('a dropped node is stopped and a new one started', () => {
    const prev = threeNodes();
    const next = cluster([
      ...threeNodes().nodes.filter((n) => n.name !== 'w2'),
      node('w3', 'worker', '10.0.0.4', { numCpus: 2 }),
    ]);
    const plan = offlinePlan(next, prev);
    expect(plan.find((p) => p.node === 'w3')?.action).toBe('start');
    expect(plan.find((p) => p.node === 'w2')).toMatchObject({ action: 'stop', reason: 'removed from config' });
  });
});

describe('live plan', () => {
  const running = (applied: AppliedSpec, alive = true): LiveNode => ({
    reachable: true,
    running: true,
    applied,
    alive,
  });

  it('a healthy cluster running as configured: 0 changes', () => {
    const c = threeNodes();
    const wanted = wantedOf(c);
    const live = new Map([...wanted].map(([name, spec]) => [name, running(spec)]));
    const plan = livePlan(c, wanted, live);
    expect(countChanges(plan)).toBe(0);
  });

  it('stopped nodes start; a worker missing from the head view restarts', () => {
    const c = threeNodes();
    const wanted = wantedOf(c);
    const live = new Map<string, LiveNode>([
      ['head', running(wanted.get('head')!)],
      ['w1', running(wanted.get('w1')!, false)],
      ['w2', { reachable: true, running: false, applied: null }],
    ]);
    const plan = livePlan(c, wanted, live);
    expect(plan.map((p) => `${p.node}:${p.action}`)).toEqual(['head:keep', 'w1:restart', 'w2:start']);
    expect(plan[1].reason).toMatch(/head's view/);
  });

  it('a node running with other resources restarts with its drift', () => {
    const c = threeNodes();
    const wanted = wantedOf(c);
    const old = wantedOf(threeNodes(1)).get('w1')!;
    const live = new Map([...wanted].map(([name, spec]) => [name, running(name === 'w1' ? old : spec)]));
    const plan = livePlan(c, wanted, live);
    expect(plan.find((p) => p.node === 'w1')).toMatchObject({
      action: 'restart',
      drift: [{ field: 'ray_config.num_cpus', from: '1', to: '2' }],
    });
    expect(countChanges(plan)).toBe(1);
  });

  it('members the head remembers but the config dropped are stopped', () => {
    const c = threeNodes();
    const wanted = wantedOf(c);
    const live = new Map([...wanted].map(([name, spec]) => [name, running(spec)]));
    const plan = livePlan(c, wanted, live, [{ name: 'old', role: 'worker', ssh_url: '[fd00::9]:2222' }]);
    expect(plan.at(-1)).toMatchObject({ node: 'old', action: 'stop', host: 'fd00::9' });
  });
});

describe("Ray's worker port range", () => {
  it('is left alone when no head port falls inside it', () => {
    expect(workerPortRange([10001, 6379, 8265])).toBeUndefined();
  });

  it("moves aside for the design note's `port: 10002`", () => {
    expect(workerPortRange([10002, 6379, 8265])).toEqual({ min_worker_port: 10003, max_worker_port: 19999 });
    const c = cluster([node('h', 'head', '10.0.0.1', { port: 10002 })]);
    expect(rayArgs(c, c.head, '10.0.0.1')).toMatchObject({ min_worker_port: 10003, max_worker_port: 19999 });
  });

  it('keeps the largest free part when ports split it', () => {
    expect(workerPortRange([12000, 18000, 8265])).toEqual({ min_worker_port: 12001, max_worker_port: 17999 });
  });
});
