// A big config's nodes list is read a slice of nodes at a time (memory: a 5 MB config as one YAML
// document took 450 MB). What comes out must be exactly what reading the whole file gives: the same
// values, the same positions for every path, the same findings; a file of any other shape is read whole.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { readYaml } from '../../src/config/yaml/read';

const REPO = join(__dirname, '..', '..');
const FIXTURES = join(REPO, '__tests__/fixtures/configs');

function files(): [string, string][] {
  const out: [string, string][] = [];
  for (const dir of [join(FIXTURES, 'valid'), join(FIXTURES, 'invalid'), join(REPO, 'examples')])
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml')))
      out.push([`${dir.slice(REPO.length + 1)}/${f}`, readFileSync(join(dir, f), 'utf8')]);
  return out;
}

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl deploy@ci';

/** Shared settings, anchors inside items used by later items and after the list, comments, block scalars. */
const SHAPES: Record<string, string> = {
  merge: [
    '---',
    'x-worker: &worker',
    '  role: worker',
    '  ray_config: {num_cpus: 4}',
    'nodes:',
    '  - {ssh_url: "h:22", name: ray-head, role: head, users: [{userid: u, password: "${P}"}]}',
    ...Array.from({ length: 40 }, (_, i) => [
      '  - <<: *worker',
      `    ssh_url: "w${i}:22"`,
      `    name: ray-worker-${i}`,
      i === 3 ? '    users: &users' : '    users:',
      `      - {userid: deploy, sshkey: "${KEY}"}`,
      i === 7 ? '    labels_note: |\n      a block scalar\n\n      with a blank line' : '    # a comment',
      '# a comment at column 0 between nodes',
    ]).flat(),
    '  - ssh_url: "w99:22"',
    '    name: ray-worker-99',
    '    role: worker',
    '    users: *users',
    'ray_spec:',
    '  cluster_name: shapes',
    '  max_workers: 10',
  ].join('\n'),
  'items at column 0, CRLF': [
    'nodes:',
    ...Array.from({ length: 5 }, (_, i) => `- {ssh_url: "h${i}:22", name: n${i}, role: ${i ? 'worker' : 'head'}}`),
  ].join('\r\n'),
  'an unclosed quote inside one node': [
    'nodes:',
    '  - {ssh_url: "h:22", name: ray-head, role: head}',
    '  - ssh_url: "w1:22',
    '    name: w1',
    '  - {ssh_url: "w2:22", name: w2, role: worker}',
  ].join('\n'),
  'a duplicate key inside one node': [
    'nodes:',
    '  - {ssh_url: "h:22", name: ray-head, role: head}',
    '  - ssh_url: "w1:22"',
    '    role: head',
    '    name: w1',
    '    role: worker',
    '  - {ssh_url: "w2:22", name: w2, role: worker}',
  ].join('\n'),
  'an alias to an anchor below it': [
    'nodes:',
    '  - {ssh_url: "h:22", name: ray-head, role: head, users: *later}',
    '  - {ssh_url: "w:22", name: w, role: worker, users: &later [{userid: u, password: "${P}"}]}',
  ].join('\n'),
  'a node indented less than the others': [
    'nodes:',
    '  - {ssh_url: "h:22", name: ray-head, role: head}',
    ' - {ssh_url: "w:22", name: w, role: worker}',
  ].join('\n'),
  'an alias bomb inside the list': [
    'nodes:',
    '  - {ssh_url: "h:22", name: ray-head, role: head}',
    '  - x0: &a0 [x, x, x, x, x, x, x, x, x, x]',
    ...Array.from({ length: 7 }, (_, i) => `    x${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`),
  ].join('\n'),
  'a second document after the list': [
    'nodes:',
    '  - {ssh_url: "h:22", name: ray-head, role: head}',
    '---',
    'nodes: []',
  ].join('\n'),
};

function compare(text: string) {
  const whole = readYaml(text, 'ray-config.yaml', { sliceBytes: Infinity });
  const sliced = readYaml(text, 'ray-config.yaml', { sliceBytes: 1 });
  expect(whole.slices).toBeUndefined();
  expect(sliced.root).toEqual(whole.root);
  expect(sliced.diagnostics).toEqual(whole.diagnostics);
  expect(sliced.index.keyPositions()).toEqual(whole.index.keyPositions());
  const values = (source: typeof whole) =>
    Object.keys(source.index.keyPositions()).map((path) => [path, source.index.positionOf(path, 'value')]);
  expect(values(sliced)).toEqual(values(whole));
  return sliced;
}

describe('the nodes list read a slice at a time', () => {
  it.each(files())('%s: the same values, positions and findings as read whole', (_name, text) => {
    compare(text);
  });

  // (the alias bomb expands to its bound, 100,000 values, twice: slow on a loaded machine)
  it.each(Object.entries(SHAPES))(
    '%s: the same as read whole',
    (_name, text) => {
      compare(text);
    },
    30_000,
  );

  it('is used for the plain shapes, one node per slice when slices are small', () => {
    expect(compare(SHAPES.merge!).slices).toBe(42);
    expect(compare(SHAPES['items at column 0, CRLF']!).slices).toBe(5);
    expect(compare(readFileSync(join(REPO, 'examples', 'remote-ray-config.yaml'), 'utf8')).slices).toBeGreaterThan(1);
  });

  it('falls back to the whole file whenever a slice or the rest does not read cleanly', () => {
    for (const name of [
      'an unclosed quote inside one node',
      'a duplicate key inside one node',
      'a node indented less than the others',
      'a second document after the list',
    ])
      expect(compare(SHAPES[name]!).slices, name).toBeUndefined();
  });

  it('a 1,000-node config: the same config and positions as read whole, errors at the same lines', () => {
    const lines = ['x-w: &w {role: worker}', 'nodes:', '  - {ssh_url: "10.0.0.1:22", name: ray-head, role: head}'];
    for (let i = 1; i < 1000; i++)
      lines.push('  - <<: *w', `    ssh_url: "10.1.${i >> 8}.${i & 255}:22"`, `    name: ray-worker-${i}`);
    lines.push('    ray_config: {num_cpus: four}');
    const text = lines.join('\n') + '\n';
    expect(compare(text).slices).toBe(999 + 1);
    const result = parseConfig(text, 'ray-config.yaml');
    expect(readYaml(text, 'ray-config.yaml').slices).toBeGreaterThan(1);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toMatchObject([
      { line: 3001, col: 28, path: 'nodes[999].ray_config.num_cpus', node: 'ray-worker-999' },
    ]);
  });
});
