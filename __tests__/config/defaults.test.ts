// What a config means when it leaves things out.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER_NAME, parseConfig } from '../../src/config';

function parse(lines: string[]) {
  const result = parseConfig(lines.join('\n') + '\n', 'ray-config.yaml', { defaultUser: 'ubuntu' });
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.config!;
}

const headOnly = (rayConfig: string[] = [], top: string[] = []) =>
  parse([
    ...top,
    'nodes:',
    '  - ssh_url: head-server',
    '    name: head',
    '    role: head',
    ...(rayConfig.length ? ['    ray_config:', ...rayConfig.map((l) => `      ${l}`)] : []),
  ]);

describe('defaults', () => {
  it('head ports: Ray Client 10001, GCS 6379, dashboard 8265', () => {
    const config = headOnly();
    expect(config.head.ray).toEqual({ port: 10001, gcsPort: 6379, dashboardPort: 8265 });
    expect(config.dashboardPort).toBe(8265);
  });

  it('ssh port 22 when ssh_url has none', () => {
    const config = headOnly();
    expect(config.head).toMatchObject({ sshUrl: 'head-server', host: 'head-server', sshPort: 22 });
  });

  it('cluster name "default", no max_workers, no ray_version, no python', () => {
    const config = headOnly();
    expect(config.clusterName).toBe(DEFAULT_CLUSTER_NAME);
    expect(config.clusterName).toBe('default');
    expect(config.maxWorkers).toBeUndefined();
    expect(config.rayVersion).toBeUndefined();
    expect(config.python).toBeUndefined();
  });

  it('storage: type local with no path (the engine uses ~/.nokube/<cluster_name>)', () => {
    expect(headOnly().head.storage).toEqual({ type: 'local' });
    expect(headOnly().head.storage.path).toBeUndefined();
  });

  it('null sections are the same as leaving them out', () => {
    const config = parse([
      'ray_spec: ~',
      'nodes:',
      '  - ssh_url: h',
      '    name: head',
      '    role: head',
      '    ray_config:',
      '    storage: null',
      '    users: ~',
    ]);
    expect(config.head.storage).toEqual({ type: 'local' });
    expect(config.head.users).toEqual([]);
    expect(config.head.ray.gcsPort).toBe(6379);
  });

  it('dashboard: the head value wins over ray_spec, ray_spec wins over 8265', () => {
    expect(headOnly([], ['ray_spec:', '  dashboard_port: 9000']).head.ray.dashboardPort).toBe(9000);
    const both = headOnly(['dashboard_port: 9100'], ['ray_spec:', '  dashboard_port: 9000']);
    expect(both.head.ray.dashboardPort).toBe(9100);
    expect(both.dashboardPort).toBe(9000);
  });

  it('explicit values are kept', () => {
    const config = headOnly(
      [
        'port: 10002',
        'gcs_port: 6380',
        'num_gpus: 1',
        'memory: 8000000000',
        'resources: {accel: 0.5}',
        'labels: {zone: eu-1, example.com/tier: gold}',
        'node_ip_address: "[2001:db8::1]"',
      ],
      [
        'ray_spec:',
        '  cluster_name: prod',
        '  max_workers: 0',
        '  ray_version: "2.10.0"',
        '  python: /opt/venv/bin/python3',
      ],
    );
    expect(config.head.ray).toEqual({
      port: 10002,
      gcsPort: 6380,
      dashboardPort: 8265,
      numGpus: 1,
      memory: 8_000_000_000,
      resources: { accel: 0.5 },
      labels: { zone: 'eu-1', 'example.com/tier': 'gold' },
      nodeIpAddress: '2001:db8::1',
    });
    expect(config).toMatchObject({
      clusterName: 'prod',
      maxWorkers: 0,
      rayVersion: '2.10.0',
      python: '/opt/venv/bin/python3',
    });
  });

  it('IPv6 ssh_url with and without port', () => {
    const config = parse([
      'nodes:',
      '  - {ssh_url: "[2001:db8::1]:2222", name: head, role: head}',
      '  - {ssh_url: "[2001:db8::2]", name: w1, role: worker}',
      '  - {ssh_url: "10.0.0.3:2200", name: w2, role: worker}',
    ]);
    expect(config.nodes.map((n) => [n.host, n.sshPort])).toEqual([
      ['2001:db8::1', 2222],
      ['2001:db8::2', 22],
      ['10.0.0.3', 2200],
    ]);
  });

  it('users keep their order and public keys', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF6HzZlupBvB4y/j+HukgcJPTvIJnrIKfisMKX6hFOz9 deploy@ci';
    const config = parse([
      'nodes:',
      '  - ssh_url: h',
      '    name: head',
      '    role: head',
      '    users:',
      `      - {userid: deploy, sshkey: "${key}"}`,
      '      - {userid: admin, password: "${ADMIN_PW}"}',
    ]);
    expect(config.head.users.map((u) => [u.userid, u.sshkey, u.password])).toEqual([
      ['deploy', key, undefined],
      ['admin', undefined, '${ADMIN_PW}'],
    ]);
  });

  it('a host_key is kept, as a key line or a fingerprint', () => {
    const config = parse([
      'nodes:',
      '  - {ssh_url: h1, name: head, role: head, host_key: "SHA256:dWTxGWX5r33IS+muP8LHyXvrqbT8UaIhkkfigIyf5so"}',
      '  - {ssh_url: h2, name: w, role: worker, host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF6HzZlupBvB4y/j+HukgcJPTvIJnrIKfisMKX6hFOz9"}',
    ]);
    expect(config.nodes.map((n) => n.hostKey?.slice(0, 11))).toEqual(['SHA256:dWTx', 'ssh-ed25519']);
  });
});
