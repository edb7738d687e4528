import { describe, expect, it } from 'vitest';
import { blockedPairError, checkProblems, netPairs, netPorts } from '../../src/engine/decisions/network';
import type { ClusterCheck } from '../../src/engine/types';
import { cluster, node } from './fixtures';

const names = (n: number) => Array.from({ length: n }, (_, i) => `n${i}`);

describe('the pairs tested before start', () => {
  it('every ordered pair up to 32 nodes', () => {
    expect(netPairs(names(3))).toHaveLength(6);
    expect(netPairs(names(32))).toHaveLength(32 * 31);
  });

  it('beyond, a sample in which every node is source and target as often, reaching across the cluster', () => {
    const all = names(200);
    const pairs = netPairs(all);
    expect(pairs.length).toBe(200 * 8);
    const from = new Map<string, number>();
    const to = new Map<string, number>();
    for (const [a, b] of pairs) {
      expect(a).not.toBe(b);
      from.set(a, (from.get(a) ?? 0) + 1);
      to.set(b, (to.get(b) ?? 0) + 1);
    }
    for (const n of all) {
      expect(from.get(n)).toBe(8);
      expect(to.get(n)).toBe(8);
    }
    expect(new Set(pairs.map(([a, b]) => `${a}>${b}`)).size).toBe(pairs.length);
    // a far step is among them (not only the neighbours)
    expect(pairs.some(([a, b]) => a === 'n0' && b === 'n64')).toBe(true);
  });
});

describe('the ports tested', () => {
  it("pinned ports, the head's GCS and a sample of the worker range; never what Ray picks at random", () => {
    const c = cluster([
      node('head', 'head', '10.0.0.1', {}),
      node('w1', 'worker', '10.0.0.2', { objectManagerPort: 8077, minWorkerPort: 11000, maxWorkerPort: 11100 }),
    ]);
    const ports = netPorts(c);
    expect(ports.get('head')!.map((p) => p.port)).toEqual([6379, 52365, 10002, 15000, 19999]);
    const w1 = ports.get('w1')!;
    expect(w1.map((p) => p.port)).toEqual([8077, 52365, 11000, 11050, 11100]);
    expect(w1[0]!.what).toMatch(/^object manager/);
    expect(w1.filter((p) => p.range).map((p) => p.port)).toEqual([11000, 11050, 11100]);
  });
});

describe('what a blocked pair says', () => {
  it('names both nodes, the port, what it is for and the rule that opens it', () => {
    const e = blockedPairError({
      from: { node: 'ray-worker-2', address: '10.0.0.13' },
      to: { node: 'ray-worker-1', address: '10.0.0.12' },
      port: { port: 8076, what: 'node manager (node_manager_port)' },
      result: 'timeout',
      ms: 2000,
    });
    expect(e.node).toBe('ray-worker-1');
    expect(e.message).toBe(
      'ray-worker-2 cannot reach ray-worker-1 (10.0.0.12):8076, node manager: connection timed out, a firewall? allow TCP 8076 from 10.0.0.13',
    );
    expect(e.hint).toMatch(/nokube ray firewall/);
  });

  it("check: a failed pair's hint names the port that did not answer", () => {
    const check: ClusterCheck = {
      nodes: ['h', 'w1', 'w2'],
      missing: [],
      objectBytes: 4 << 20,
      deadlineSec: 15,
      pairs: [
        { from: 'w1', to: 'w2', ok: false, ms: 15000, error: 'timed out' },
        { from: 'w2', to: 'w1', ok: true, ms: 40 },
      ],
      ports: [
        {
          from: 'w2',
          to: 'w1',
          address: '10.0.0.12',
          port: 40111,
          what: 'object manager',
          result: 'timeout',
          ms: 2000,
        },
      ],
    };
    const problems = checkProblems(check, { w2: '10.0.0.13' });
    expect(problems[0]!.message).toBe('w2 could not fetch an object from w1 within 15s: timed out');
    expect(problems[0]!.hint).toMatch(
      /^w2 cannot reach w1 \(10\.0\.0\.12\):40111, object manager: allow TCP 40111 from 10\.0\.0\.13/,
    );
    expect(problems[1]!.message).toMatch(
      /^w2 cannot reach w1 \(10\.0\.0\.12\):40111, object manager: connection timed out/,
    );
  });
});
