import { describe, expect, it } from 'vitest';
import { desiredSpec, hostForUrl } from '../../src/engine/decisions/desired';
import { FIRST_IPV6_RAY, rayOnIpv6Problems } from '../../src/engine/decisions/ray-on-ipv6';
import type { ClusterConfig } from '../../src/config/types';
import type { ProbeAnswer } from '../../src/remote/types';
import { cluster, node } from './fixtures';

function probe(version: string): ProbeAnswer {
  return {
    ok: true,
    hostname: 'h',
    user: 'ray',
    storage: { path: '/opt/ray', writable: true },
    python: { path: '/usr/bin/python3', version: '3.11.2' },
    ray: { version, python: '/usr/bin/python3' },
    cpus: 2,
    memory_bytes: 1e9,
    shm_bytes: 1e9,
    ports: [],
    running: false,
    applied: null,
  };
}

/** What start computes: each node's spec from the address it was reached at (its host here). */
function check(c: ClusterConfig, versions: Record<string, string>) {
  const headIp = c.head.ray.nodeIpAddress ?? c.head.host;
  const wanted = new Map(c.nodes.map((n) => [n.name, desiredSpec(c, n, n.host, `${hostForUrl(headIp)}:6379`)]));
  return rayOnIpv6Problems(c, new Map(c.nodes.map((n) => [n.name, probe(versions[n.name] ?? '2.60.0')])), wanted);
}

describe('preflight: Ray on IPv6', () => {
  it('an IPv6 cluster on a Ray that supports it passes', () => {
    const c = cluster([node('head', 'head', 'fd00::11'), node('w1', 'worker', 'fd00::12')]);
    expect(check(c, {})).toEqual({ problems: [], warnings: [] });
    expect(check(c, { head: FIRST_IPV6_RAY, w1: FIRST_IPV6_RAY }).problems).toEqual([]);
  });

  it('a node whose Ray predates IPv6 sockets is named, with the IPv4 node_ip_address to set instead', () => {
    const c = cluster([node('head', 'head', '10.0.0.1'), node('gpu-1', 'worker', 'fd00::12')]);
    const { problems } = check(c, { head: '2.48.0', 'gpu-1': '2.48.0' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ node: 'gpu-1', host: 'fd00::12:22' });
    expect(problems[0].message).toBe(
      'Ray 2.48.0 on gpu-1 cannot run on IPv6: its Ray address would be fd00::12 (from its ssh_url), and Ray runs on IPv6 only from 2.49.0',
    );
    expect(problems[0].hint).toMatch(/^set ray_config\.node_ip_address of gpu-1 to its IPv4 address/);
    expect(problems[0].hint).toContain('Ray 2.49.0 or later');
  });

  it('an IPv4 node_ip_address fixes it; an IPv6 one written by hand is named as the source', () => {
    const fixed = cluster([node('head', 'head', 'fd00::11', { nodeIpAddress: '10.0.0.1' })]);
    expect(check(fixed, { head: '2.48.0' }).problems).toEqual([]);
    const written = cluster([node('head', 'head', '10.0.0.1', { nodeIpAddress: 'fd00::11' })]);
    expect(check(written, { head: '2.48.0' }).problems[0].message).toContain(
      'fd00::11 (from its ray_config.node_ip_address)',
    );
  });

  it('an old-Ray worker cannot join an IPv6 head: it is named, and the fix is on the head', () => {
    const c = cluster([node('head', 'head', 'fd00::11'), node('w1', 'worker', '10.0.0.2')]);
    const { problems } = check(c, { w1: '2.48.0' });
    expect(problems.map((p) => p.node)).toEqual(['w1']);
    expect(problems[0].message).toContain('cannot join a head on IPv6 ([fd00::11])');
    expect(problems[0].hint).toMatch(/node_ip_address of the head head to its IPv4 address/);
  });

  it('a worker on another address family than the head is a warning naming both addresses', () => {
    const c = cluster([node('head', 'head', '10.0.0.1'), node('w1', 'worker', 'fd00::12')]);
    const { problems, warnings } = check(c, {});
    expect(problems).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^w1 would join Ray on IPv6 \(fd00::12, from its ssh_url\) but the head head is on IPv4 \(10\.0\.0\.1\)/,
    );
    expect(warnings[0]).toContain('set its ray_config.node_ip_address to its IPv4 address');
  });
});
