// Shared settings as people write them: anchors, aliases and YAML merge keys (`<<: *worker_defaults`).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl deploy@ci';

const SHARED = [
  'x-worker-defaults: &worker_defaults', // 1
  '  role: worker',
  '  ray_config: &worker_ray',
  '    num_cpus: 4',
  '    object_store_memory: 1000000000', // 5
  '  users:',
  '    - userid: deploy',
  `      sshkey: "${KEY}"`,
  'nodes:',
  '  - ssh_url: head:22', // 10
  '    name: ray-head',
  '    role: head',
  '    users: [{userid: deploy, sshkey: "' + KEY + '"}]',
];

function parse(lines: string[]) {
  return parseConfig(lines.join('\n') + '\n', 'ray-config.yaml');
}
const errors = (lines: string[]) => parse(lines).diagnostics.filter((d) => d.severity === 'error');

describe('merge keys and aliases', () => {
  it('`<<: *worker_defaults` shares role, ray_config and users; keys written in the node win', () => {
    const { config, diagnostics } = parse([
      ...SHARED,
      '  - <<: *worker_defaults',
      '    ssh_url: w1:22',
      '    name: ray-worker-1',
      '  - <<: *worker_defaults',
      '    ssh_url: w2:22',
      '    name: ray-worker-2',
      '    ray_config:',
      '      <<: *worker_ray',
      '      num_cpus: 16',
    ]);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(config!.workers.map((w) => [w.name, w.role, w.ray.numCpus, w.users[0]?.userid])).toEqual([
      ['ray-worker-1', 'worker', 4, 'deploy'],
      ['ray-worker-2', 'worker', 16, 'deploy'],
    ]);
    expect(config!.workers[1]!.ray.objectStoreMemory).toBe(1_000_000_000);
  });

  it('a list of merge keys: the first mapping wins over later ones', () => {
    const { config } = parse([
      'x-small: &small {num_cpus: 2, num_gpus: 0}',
      'x-gpu: &gpu {num_cpus: 8, num_gpus: 1}',
      'nodes:',
      '  - {ssh_url: "h:22", name: h, role: head, users: [{userid: u, password: "${P}"}]}',
      '  - ssh_url: "w:22"',
      '    name: w',
      '    role: worker',
      '    users: [{userid: u, password: "${P}"}]',
      '    ray_config:',
      '      <<: [*gpu, *small]',
    ]);
    expect(config!.workers[0]!.ray).toEqual({ numCpus: 8, numGpus: 1 });
  });

  it('an error inside a merged value is reported where the value is written (the anchor)', () => {
    const found = errors([
      ...SHARED.map((l) => (l === '    num_cpus: 4' ? '    num_cpus: four' : l)),
      '  - <<: *worker_defaults',
      '    ssh_url: w1:22',
      '    name: ray-worker-1',
    ]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ line: 4, col: 15, path: 'nodes[1].ray_config.num_cpus', node: 'ray-worker-1' });
  });

  it('a merged role of a second head points at the merge source, not at an unrelated line', () => {
    const found = errors([
      'x-head: &head_defaults {role: head}',
      'nodes:',
      '  - {ssh_url: "h:22", name: h, role: head, users: [{userid: u, password: "${P}"}]}',
      '  - <<: *head_defaults',
      '    ssh_url: "w:22"',
      '    name: w',
      '    users: [{userid: u, password: "${P}"}]',
    ]);
    expect(found.map((d) => [d.line, d.message])).toEqual([[1, expect.stringContaining('a second head')]]);
  });

  it('120 workers reusing one anchor validate (no limit on the number of aliases)', () => {
    const workers = Array.from({ length: 120 }, (_, i) => [
      `  - <<: *worker_defaults`,
      `    ssh_url: w${i}:22`,
      `    name: w${i}`,
      `    ray_config: *worker_ray`,
    ]).flat();
    const { config, diagnostics } = parse([...SHARED, ...workers]);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(config!.workers).toHaveLength(120);
    expect(config!.workers[119]!.ray.numCpus).toBe(4);
  });

  it('an alias bomb (10^12 values) is refused at its first alias, without expanding it', () => {
    const lines = ['x-a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `x-a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const result = parse([...lines, 'nodes: []']);
    expect(result.config).toBeUndefined();
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]!.message).toContain('too many aliases: they expand to more than 100,000 values');
  });

  it('an alias inside its own anchor is refused, not followed forever', () => {
    const found = errors(['nodes: &loop', '  - {ssh_url: "h:22", name: h, role: head, users: *loop}']);
    expect(found[0]!.message).toContain('alias *loop refers to itself');
  });

  it('`<<` of a single value says what it takes', () => {
    const found = errors([
      'x-port: &port 10001',
      'nodes:',
      '  - ssh_url: "h:22"',
      '    name: h',
      '    role: head',
      '    ray_config:',
      '      <<: *port',
    ]);
    expect(found[0]).toMatchObject({ line: 7, message: expect.stringContaining('`<<` merges a mapping') });
  });

  it('a quoted "<<" is an ordinary (unknown) key', () => {
    const found = errors([
      ...SHARED,
      '  - "<<": *worker_defaults',
      '    ssh_url: w:22',
      '    name: w',
      '    role: worker',
    ]);
    expect(found.some((d) => d.message === 'unknown key "<<"')).toBe(true);
  });
});
