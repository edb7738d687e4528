// The design note's three examples must parse and mean what the note says.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config';

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const valid = (name: string) => repo(`__tests__/fixtures/configs/valid/${name}`);

describe('the design note examples', () => {
  it('basic remote config: head + worker, one warning (said once) for the two plaintext passwords', () => {
    const { config, diagnostics } = loadConfig(valid('basic-remote.yaml'));
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(diagnostics.map((d) => [d.line, d.col, d.path, d.nodes])).toEqual([
      [24, 19, 'nodes[].users[0].password', ['ray-head-prod', 'ray-worker-1']],
    ]);
    for (const d of diagnostics) {
      expect(d.severity).toBe('warning');
      expect(d.message).toContain('plaintext password');
      expect(d.hint).toContain('${ENV_NAME}');
      expect(`${d.message} ${d.hint}`).not.toMatch(/prod123|worker123/);
    }

    expect(config).toBeDefined();
    expect(config!.maxWorkers).toBe(10);
    expect(config!.dashboardPort).toBe(8265);
    expect(config!.head).toMatchObject({
      name: 'ray-head-prod',
      role: 'head',
      sshUrl: 'prod-server-1:22',
      host: 'prod-server-1',
      sshPort: 22,
      ray: { port: 10001, gcsPort: 6379, dashboardPort: 8265, numCpus: 8, objectStoreMemory: 2_000_000_000 },
      storage: { type: 'local', path: '/opt/nokube/data/ray/head' },
      users: [{ userid: 'prod-admin', password: 'prod123' }],
      index: 0,
    });
    expect(config!.workers).toHaveLength(1);
    expect(config!.workers[0]).toMatchObject({
      name: 'ray-worker-1',
      host: 'prod-server-2',
      ray: { numCpus: 16, objectStoreMemory: 4_000_000_000 },
      storage: { type: 'local', path: '/opt/nokube/data/ray/worker-1' },
      users: [{ userid: 'worker-user', password: 'worker123' }],
    });
    expect(config!.workers[0]!.ray.port).toBeUndefined();
  });

  it('multi-node: three nodes, no storage and no users, one warning naming the nodes without a default user', () => {
    const { config, diagnostics } = loadConfig(valid('multi-node.yaml'));
    expect(diagnostics.map((d) => [d.severity, d.line, d.path, d.nodes])).toEqual([
      ['warning', 4, 'nodes[]', ['ray-head', 'ray-worker-1', 'ray-worker-2']],
    ]);
    expect(diagnostics[0]!.message).toContain('no users');
    expect(diagnostics[0]!.hint).toContain('--user');
    expect(config!.nodes.map((n) => [n.name, n.role, n.host, n.storage.path, n.users.length])).toEqual([
      ['ray-head', 'head', 'head-server', undefined, 0],
      ['ray-worker-1', 'worker', 'worker-1', undefined, 0],
      ['ray-worker-2', 'worker', 'worker-2', undefined, 0],
    ]);
    expect(config!.maxWorkers).toBeUndefined();
  });

  it('multi-node with a default user: no warnings at all', () => {
    const result = loadConfig(valid('multi-node.yaml'), { defaultUser: 'ubuntu' });
    expect(result.diagnostics).toEqual([]);
    expect(result.config).toBeDefined();
  });

  it('local development: a single head reached at localhost:10001', () => {
    const { config, diagnostics } = loadConfig(valid('local-development.yaml'));
    expect(diagnostics.map((d) => [d.severity, d.path])).toEqual([['warning', 'nodes[0].users[0].password']]);
    expect(config!.head).toMatchObject({
      name: 'ray-head-local',
      host: 'localhost',
      sshPort: 10001,
      ray: { port: 10001, numCpus: 4 },
    });
    expect(config!.workers).toEqual([]);
  });

  // The fixtures are the note's text verbatim; the shipped files are formatted copies that mean the same.
  it.each([
    ['examples/remote-ray-config.yaml', 'basic-remote.yaml'],
    ['ray-template.yaml', 'local-development.yaml'],
  ])('%s means the same as the note example', (shipped, fixture) => {
    const fromShipped = parseConfig(readFileSync(repo(shipped), 'utf8'), shipped);
    const fromNote = loadConfig(valid(fixture));
    expect(fromShipped.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(fromShipped.diagnostics.map((d) => [d.severity, d.path, d.message])).toEqual(
      fromNote.diagnostics.map((d) => [d.severity, d.path, d.message]),
    );
    const meaning = (config: typeof fromShipped.config) => ({ ...config, file: undefined, positions: undefined });
    expect(
      JSON.parse(JSON.stringify(meaning(fromShipped.config), (key, value) => (key === 'pos' ? undefined : value))),
    ).toEqual(
      JSON.parse(JSON.stringify(meaning(fromNote.config), (key, value) => (key === 'pos' ? undefined : value))),
    );
    expect(fromShipped.config?.file).toBe(shipped);
  });

  it('records where each key was written', () => {
    const { config } = loadConfig(valid('basic-remote.yaml'));
    expect(config!.positions!['nodes[1].ray_config.num_cpus']).toEqual({ line: 31, col: 7 });
    expect(config!.head.pos).toEqual({ line: 11, col: 5 });
    expect(config!.head.users[0]!.pos).toEqual({ line: 23, col: 9 });
  });
});
