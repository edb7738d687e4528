// Every port Ray opens can be pinned (ray_config, or ray_spec.ports for all nodes) and is checked before
// anything starts: each rule's message at the line the user wrote.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, parseConfig } from '../../src/config';
import { rayArgs } from '../../src/engine/decisions/desired';
import { offlinePlan } from '../../src/engine';

function errors(text: string[]): string[] {
  const { diagnostics } = parseConfig(text.join('\n'), 'ray-config.yaml', { defaultUser: 'u' });
  return diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
}

const head = ['  - ssh_url: "10.0.0.1:22"', '    name: head', '    role: head'];
const worker = (n: number, host = `10.0.0.${n + 1}:22`) => [
  `  - ssh_url: "${host}"`,
  `    name: w${n}`,
  '    role: worker',
];

describe('pinned ports', () => {
  it('ray_spec.ports pins every node; a node of its own wins; they reach ray start', () => {
    const { config, diagnostics } = parseConfig(
      [
        'ray_spec:',
        '  ports: {node_manager_port: 8076, object_manager_port: 8077, min_worker_port: 11000, max_worker_port: 11100}',
        'nodes:',
        ...head,
        ...worker(1),
        '    ray_config: {node_manager_port: 9076, metrics_export_port: 9090}',
      ].join('\n'),
      'ray-config.yaml',
      { defaultUser: 'u' },
    );
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const [h, w] = config!.nodes;
    expect(rayArgs(config!, w!, '10.0.0.2')).toMatchObject({
      node_manager_port: 9076,
      object_manager_port: 8077,
      metrics_export_port: 9090,
      min_worker_port: 11000,
      max_worker_port: 11100,
    });
    expect(rayArgs(config!, h!, '10.0.0.1')).toMatchObject({ node_manager_port: 8076, min_worker_port: 11000 });
  });

  it("a pinned port in Ray's default worker range moves that range away from it (as the head's ports do)", () => {
    const { config } = parseConfig(
      ['nodes:', ...head, ...worker(1), '    ray_config: {object_manager_port: 15000}'].join('\n'),
      'ray-config.yaml',
      { defaultUser: 'u' },
    );
    expect(rayArgs(config!, config!.workers[0]!, '10.0.0.2')).toMatchObject({
      min_worker_port: 15001,
      max_worker_port: 19999,
    });
  });

  it('refuses a port out of 1-65535, at its line', () => {
    expect(errors(['ray_spec:', '  ports: {node_manager_port: 70000}', 'nodes:', ...head])[0]).toMatch(
      /^ray-config\.yaml:2:30: error: ray_spec\.ports\.node_manager_port: expected a port number from 1 to 65535/,
    );
  });

  it('refuses two equal ports on a node, at the one the node wrote', () => {
    expect(errors(['nodes:', ...head, '    ray_config:', '      object_manager_port: 6379'])).toEqual([
      'ray-config.yaml:6:28: error: nodes[0].ray_config.object_manager_port: object_manager_port 6379 is also the default gcs_port: Ray refuses to start when two of its components share a port (hint: give every port of a node its own number)',
    ]);
    expect(
      errors([
        'ray_spec:',
        '  ports:',
        '    node_manager_port: 8076',
        '    object_manager_port: 8076',
        'nodes:',
        ...head,
        ...worker(1),
      ]),
    ).toEqual([
      'ray-config.yaml:4:26: error: ray_spec.ports.object_manager_port: object_manager_port 8076 is also ray_spec.ports.node_manager_port: Ray refuses to start when two of its components share a port (hint: give every port of a node its own number)',
    ]);
  });

  it('refuses half a worker range, a reversed one, and one too narrow for num_cpus', () => {
    expect(errors(['ray_spec:', '  ports: {min_worker_port: 11000}', 'nodes:', ...head])).toEqual([
      "ray-config.yaml:2:28: error: ray_spec.ports.min_worker_port: min_worker_port is set without max_worker_port: the worker port range needs both ends (hint: add max_worker_port next to it (both in the node's ray_config, or both in ray_spec.ports))",
    ]);
    expect(errors(['nodes:', ...head, '    ray_config: {min_worker_port: 11000, max_worker_port: 10999}'])).toEqual([
      'ray-config.yaml:5:59: error: nodes[0].ray_config.max_worker_port: max_worker_port 10999 is below min_worker_port 11000 (hint: the worker ports are min_worker_port..max_worker_port: set max_worker_port to at least 11008)',
    ]);
    expect(
      errors(['nodes:', ...head, '    ray_config: {num_cpus: 16, min_worker_port: 11000, max_worker_port: 11020}']),
    ).toEqual([
      "ray-config.yaml:5:73: error: nodes[0].ray_config.max_worker_port: the worker port range 11000-11020 holds 21 ports, but this node needs at least 24: num_cpus 16 for tasks, plus 8 for drivers, actors and Ray's own workers (each worker process binds one port) (hint: set max_worker_port to 11023 or more)",
    ]);
    // without num_cpus Ray counts the CPUs: at least 1 + 8 is required
    expect(errors(['nodes:', ...head, '    ray_config: {min_worker_port: 11000, max_worker_port: 11008}'])).toEqual([]);
    expect(
      errors(['nodes:', ...head, '    ray_config: {min_worker_port: 11000, max_worker_port: 11007}'])[0],
    ).toContain('holds 8 ports, but this node needs at least 9: num_cpus is left out');
  });

  it("refuses a port inside the node's worker range", () => {
    expect(
      errors([
        'ray_spec:',
        '  ports: {min_worker_port: 11000, max_worker_port: 11100}',
        'nodes:',
        ...head,
        ...worker(1),
        '    ray_config: {metrics_export_port: 11050}',
      ]),
    ).toEqual([
      'ray-config.yaml:10:39: error: nodes[1].ray_config.metrics_export_port: metrics_export_port 11050 lies in the worker port range 11000-11100 (min_worker_port..max_worker_port): Ray refuses to start when two of its components share a port (hint: move metrics_export_port out of the range, or the range away from it)',
    ]);
  });

  it('refuses two nodes on one address that take the same port, or overlapping worker ranges', () => {
    expect(
      errors([
        'ray_spec:',
        '  ports: {node_manager_port: 8076}',
        'nodes:',
        ...head,
        ...worker(1, '10.0.0.9:22'),
        ...worker(2, '10.0.0.9:2222'),
      ]),
    ).toEqual([
      "ray-config.yaml:10:5: error: nodes[2]: node w2 (line 10) and node w1 (line 7) are both on 10.0.0.9: node_manager_port 8076 here collides with node_manager_port 8076 there (both from ray_spec.ports) (hint: nodes on one address need their own ports: set other ports in one node's ray_config)",
    ]);
    expect(
      errors([
        'nodes:',
        ...worker(1, '10.0.0.9:22'),
        '    ray_config: {min_worker_port: 11000, max_worker_port: 11100}',
        ...worker(2, '10.0.0.9:2222'),
        '    ray_config: {min_worker_port: 11100, max_worker_port: 11200}',
        ...head,
      ]),
    ).toEqual([
      "ray-config.yaml:9:35: error: nodes[1].ray_config.min_worker_port: node w2 (line 6) and node w1 (line 2) are both on 10.0.0.9: the worker port range 11100-11200 here collides with the worker port range 11000-11100 there (hint: nodes on one address need their own ports: set other ports in one node's ray_config)",
    ]);
    // different node_ip_address on one machine: each binds its own address
    expect(
      errors([
        'ray_spec:',
        '  ports: {node_manager_port: 8076}',
        'nodes:',
        ...head,
        ...worker(1, '10.0.0.9:22'),
        ...worker(2, '10.0.0.9:2222'),
        '    ray_config: {node_ip_address: 10.0.0.10}',
      ]),
    ).toEqual([]);
  });

  it('a changed pinned port is drift: plan restarts that node (and only it)', () => {
    const config = (w2: string) =>
      parseConfig(
        [
          'ray_spec: {ports: {object_manager_port: 8077}}',
          'nodes:',
          ...head,
          ...worker(1),
          ...worker(2),
          `    ray_config: {${w2}}`,
        ].join('\n'),
        'ray-config.yaml',
        { defaultUser: 'u' },
      ).config!;
    const plan = offlinePlan(config('object_manager_port: 9077'), config(''));
    expect(plan.map((p) => [p.node, p.action, p.drift])).toEqual([
      ['head', 'keep', []],
      ['w1', 'keep', []],
      ['w2', 'restart', [{ field: 'ray_config.object_manager_port', from: '8077', to: '9077' }]],
    ]);
  });
});
