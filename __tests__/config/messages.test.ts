// How findings read: terminal format, all at once and in order, no secrets, never a throw.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, loadConfig, parseConfig, type Diagnostic } from '../../src/config';
import { closestMatch, editDistance } from '../../src/config/did-you-mean';

describe('formatDiagnostic', () => {
  const base: Diagnostic = {
    severity: 'error',
    file: 'ray-config.yaml',
    line: 7,
    col: 5,
    path: 'nodes[1].ray_config.num_cpus',
    message: 'expected a non-negative integer, found "four"',
  };

  it('file:line:col: severity: path: message (hint: ...)', () => {
    expect(formatDiagnostic({ ...base, hint: 'write 4' })).toBe(
      'ray-config.yaml:7:5: error: nodes[1].ray_config.num_cpus: expected a non-negative integer, found "four" (hint: write 4)',
    );
  });

  it('leaves out an empty path and a missing hint', () => {
    expect(formatDiagnostic({ ...base, severity: 'warning', path: '', message: 'the file is empty' })).toBe(
      'ray-config.yaml:7:5: warning: the file is empty',
    );
  });
});

describe('reporting', () => {
  it('reports every error at once, sorted by line, each naming its node', () => {
    const text = [
      'ray_spec:',
      '  max_workers: 1',
      'nodes:',
      '  - ssh_url: "h1:22"',
      '    name: head',
      '    role: head',
      '    ray_config:',
      '      num_cpu: 8',
      '  - ssh_url: "h2:99999"',
      '    name: w1',
      '    role: worker',
      '    ray_config:',
      '      num_cpus: "four"',
      '      port: 10001',
      '  - ssh_url: "h3"',
      '    name: w1',
      '    role: wroker',
      '',
    ].join('\n');
    const result = parseConfig(text, 'ray-config.yaml', { defaultUser: 'u' });
    expect(result.config).toBeUndefined();
    expect(result.diagnostics.map((d) => [d.line, d.col, d.path, d.node])).toEqual([
      [8, 7, 'nodes[0].ray_config.num_cpu', 'head'],
      [9, 14, 'nodes[1].ssh_url', 'w1'],
      [13, 17, 'nodes[1].ray_config.num_cpus', 'w1'],
      [14, 7, 'nodes[1].ray_config.port', 'w1'],
      [16, 11, 'nodes[2].name', 'w1'],
      [17, 11, 'nodes[2].role', 'w1'],
    ]);
    expect(result.diagnostics[5]!.hint).toBe('did you mean "worker"?');
  });

  it('a private key is reported once, without any of its text', () => {
    const key = [
      '-----BEGIN RSA PRIVATE KEY-----',
      'MIIEowIBAAKCAQEAsecretsecretsecret',
      '-----END RSA PRIVATE KEY-----',
    ];
    const text = [
      'nodes:',
      '  - ssh_url: h',
      '    name: head',
      '    role: head',
      '    users:',
      '      - userid: deploy',
      '        password: |',
      ...key.map((l) => `          ${l}`),
      '',
    ].join('\n');
    const result = parseConfig(text, 'ray-config.yaml');
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => [d.line, d.col, d.path])).toEqual([[8, 11, 'nodes[0].users[0].password']]);
    expect(JSON.stringify(result.diagnostics)).not.toMatch(/MIIE|secretsecret/);
  });

  it('a private key pasted so that the YAML breaks is still named', () => {
    const text =
      'nodes:\n  - ssh_url: h\n    name: head\n    role: head\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
    const result = parseConfig(text, 'ray-config.yaml');
    expect(result.diagnostics.some((d) => d.line === 5 && d.col === 1 && d.message.includes('private key'))).toBe(true);
    expect(JSON.stringify(result.diagnostics)).not.toContain('b3BlbnNz');
  });

  it('never throws, whatever the input', () => {
    const valid =
      'ray_spec:\n  max_workers: 2\nnodes:\n  - ssh_url: "h1:22"\n    name: head\n    role: head\n    ray_config: {port: 10001, num_cpus: 4}\n    users: [{userid: u, password: "${P}"}]\n';
    const nasty = [
      '',
      ' ',
      '\t',
      '\0',
      ':',
      '- -',
      '? [a]\n: b',
      '*a',
      '&a [*a]',
      'a: &a [*a, *a]',
      '{',
      '"',
      "'",
      '!!binary x',
      '%YAML 1.1\n---\na: 1',
      '[]',
      '42',
      'null',
      '~',
      'nodes: 5',
      'nodes: [1, "x", null, []]',
      'nodes:\n  - users: 5\n    ray_config: []\n    storage: "x"',
    ];
    for (const text of nasty) expect(() => parseConfig(text, 'f.yaml')).not.toThrow();
    // Every prefix and every single-character deletion of a valid config.
    for (let i = 0; i <= valid.length; i++) {
      expect(() => parseConfig(valid.slice(0, i), 'f.yaml')).not.toThrow();
      expect(() => parseConfig(valid.slice(0, i) + valid.slice(i + 1), 'f.yaml')).not.toThrow();
    }
  });

  it('an alias bomb is refused, not expanded', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const result = parseConfig(lines.join('\n') + '\nnodes: []\n', 'bomb.yaml');
    expect(result.diagnostics.some((d) => d.message.includes('too many aliases'))).toBe(true);
  });
});

describe('loadConfig', () => {
  it('a missing file is a diagnostic, not a throw', () => {
    const result = loadConfig('/nonexistent/ray-config.yaml');
    expect(result.config).toBeUndefined();
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'error',
        file: '/nonexistent/ray-config.yaml',
        line: 1,
        col: 1,
        message: 'the config file does not exist',
      }),
    ]);
    expect(result.diagnostics[0]!.hint).toContain('--config');
  });

  it('a directory is a diagnostic, not a throw', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nokube-config-'));
    mkdirSync(join(dir, 'ray-config.yaml'));
    expect(loadConfig(join(dir, 'ray-config.yaml')).diagnostics[0]!.message).toBe('the config path is a directory');
  });

  it('reads and parses a file, with the path as given in every message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nokube-config-'));
    const path = join(dir, 'ray-config.yaml');
    writeFileSync(path, 'nodes:\n  - {ssh_url: h, name: head, role: haed}\n');
    const [first] = loadConfig(path, { defaultUser: 'ubuntu' }).diagnostics;
    expect(formatDiagnostic(first!)).toBe(
      `${path}:2:36: error: nodes[0].role: expected head or worker, found "haed" (hint: did you mean "head"?)`,
    );
  });
});

describe('did you mean', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('ssh_ulr', 'ssh_url')).toBe(1);
    expect(editDistance('haed', 'head')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it.each([
    ['num_cpu', ['num_cpus', 'num_gpus'], 'num_cpus'],
    ['dashbord_port', ['dashboard_port', 'port'], 'dashboard_port'],
    ['numCpus', ['num_cpus'], 'num_cpus'],
    ['NUM-GPUS', ['num_cpus', 'num_gpus'], 'num_gpus'],
    ['Head', ['head', 'worker'], 'head'],
    ['zzz', ['head', 'worker'], undefined],
    ['port', ['role', 'name'], undefined],
  ])('%s -> %s', (word, allowed, suggestion) => {
    expect(closestMatch(word, allowed)).toBe(suggestion);
  });
});
