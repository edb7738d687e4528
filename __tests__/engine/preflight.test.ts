import { describe, expect, it } from 'vitest';
import { preflightProblems } from '../../src/engine/decisions/preflight';
import type { ProbeAnswer } from '../../src/remote/types';
import { threeNodes } from './fixtures';

function probe(over: Partial<ProbeAnswer> = {}): ProbeAnswer {
  return {
    ok: true,
    hostname: 'h',
    user: 'ray',
    storage: { path: '/home/ray/.nokube/default', writable: true },
    python: { path: '/usr/bin/python3', version: '3.11.2' },
    ray: { version: '2.60.0', python: '/usr/bin/python3' },
    cpus: 2,
    memory_bytes: 1e9,
    shm_bytes: 1e9,
    ports: [],
    running: false,
    applied: null,
    ...over,
  };
}

const c = threeNodes();

describe('preflight', () => {
  it('a ready cluster has no problems', () => {
    expect(preflightProblems(c, new Map(c.nodes.map((n) => [n.name, probe()])))).toEqual([]);
  });

  it('names each trouble of the design note with its node and a fix', () => {
    const probes = new Map([
      ['head', probe({ ports: [{ name: 'gcs_port', port: 6379, in_use: true, by_this_cluster: false }] })],
      ['w1', probe({ ray: null, ray_error: 'No module named ray' })],
      [
        'w2',
        probe({
          ray: { version: '2.59.0', python: 'x' },
          storage: { path: '/opt/x', writable: false, error: 'Permission denied' },
        }),
      ],
    ]);
    const problems = preflightProblems(c, probes);
    const byNode = (name: string) => problems.filter((p) => p.node === name);
    expect(byNode('head')[0].message).toContain('port 6379 (gcs_port)');
    expect(byNode('head')[0].hint).toContain('netstat -tlnp | grep :6379');
    expect(byNode('w1')[0].message).toContain('Ray is not installed');
    // the exact command, for the node's own interpreter and the head's Ray version
    expect(byNode('w1')[0].hint).toContain('/usr/bin/python3 -m pip install "ray[default]==2.60.0"');
    expect(
      byNode('w2')
        .map((p) => p.message)
        .join('\n'),
    ).toMatch(/not writable[\s\S]*Ray 2\.59\.0 is installed, but the head \(head\) has 2\.60\.0/);
    expect(byNode('w2')[0].hint).toContain('chown -R ray:ray /opt/x');
    expect(byNode('w2')[1].hint).toContain('x -m pip install "ray[default]==2.60.0" on w2');
  });

  it('ray_spec.ray_version is checked on every node, the head included', () => {
    const c2 = { ...c, rayVersion: '2.58.1' };
    const problems = preflightProblems(c2, new Map(c.nodes.map((n) => [n.name, probe()])));
    expect(problems).toHaveLength(3);
    expect(problems[0].message).toContain('ray_spec.ray_version has 2.58.1');
    expect(problems[0].hint).toContain('/usr/bin/python3 -m pip install "ray[default]==2.58.1"');
  });

  it('a port held by this cluster is not a conflict; a Python mismatch is', () => {
    const probes = new Map([
      ['head', probe({ ports: [{ name: 'port', port: 10001, in_use: true, by_this_cluster: true }] })],
      ['w1', probe({ python: { path: 'p', version: '3.10.12' } })],
      ['w2', probe()],
    ]);
    const problems = preflightProblems(c, probes);
    expect(problems.map((p) => p.node)).toEqual(['w1']);
    expect(problems[0].message).toContain('same Python version');
  });
});
