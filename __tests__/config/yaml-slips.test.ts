// YAML slips in the user's words, at the line that holds the value used (one-mistake files are in
// fixtures/configs/invalid; these need more than one finding or a valid result).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';

const parse = (lines: string[]) => parseConfig(lines.join('\n') + '\n', 'ray-config.yaml', { defaultUser: 'deploy' });

describe('after a duplicate key', () => {
  it('later errors point at the value that is used (the later one), not at the first', () => {
    const { diagnostics } = parse([
      'nodes:',
      '  - ssh_url: "10.0.0.1:22"',
      '    name: ray-head',
      '    role: head',
      '  - ssh_url: "10.0.0.3:22"', // 5
      '    name: ray-worker-3',
      '    role: worker',
      '    ray_config:',
      '      num_cpus: 2',
      '    role: head', // 10
    ]);
    expect(diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual([
      '10:5 key `role` appears twice in the same mapping',
      '10:11 a second head: node ray-head (line 2) is already the head',
    ]);
    expect(diagnostics[0]!.hint).toBe('the later one is used: remove or rename one of them');
  });

  it('a duplicated name: the error about the name is on the line of the name kept', () => {
    const { diagnostics } = parse([
      'nodes:',
      '  - {ssh_url: "10.0.0.1:22", name: ray-head, role: head}',
      '  - ssh_url: "10.0.0.2:22"',
      '    name: ray-worker-1',
      '    name: ray-head', // 5
      '    role: worker',
    ]);
    expect(diagnostics.map((d) => `${d.line} ${d.message}`)).toEqual([
      '5 key `name` appears twice in the same mapping',
      '5 the name "ray-head" is already used by node ray-head (line 2)',
    ]);
  });
});

describe('host names', () => {
  it('a trailing dot (a fully qualified name, which ssh accepts) is fine', () => {
    const { config, diagnostics } = parse([
      'nodes:',
      '  - {ssh_url: "worker-4.example.com.:22", name: h, role: head}',
      '  - {ssh_url: worker-5.example.com., name: w, role: worker}',
    ]);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(config!.nodes.map((n) => n.host)).toEqual(['worker-4.example.com.', 'worker-5.example.com.']);
  });

  it('with and without the trailing dot it is the same machine', () => {
    const { diagnostics } = parse([
      'nodes:',
      '  - {ssh_url: "worker-4.example.com.:22", name: h, role: head}',
      '  - {ssh_url: "worker-4.example.com:22", name: w, role: worker}',
    ]);
    expect(diagnostics.map((d) => d.message)).toEqual([
      expect.stringContaining('this ssh_url reaches the same host and port as node h'),
    ]);
  });

  it('a lone dot is still not a host', () => {
    const { diagnostics } = parse(['nodes:', '  - {ssh_url: ".:22", name: h, role: head}']);
    expect(diagnostics[0]!.message).toMatch(/"\." is not a valid/);
  });
});

describe('line endings', () => {
  it('CRLF and lone CR read the same as LF, at the same lines', () => {
    const lines = ['nodes:', '  - ssh_url: "10.0.0.1:22"', '    name: ray-head', '    role: haed'];
    for (const eol of ['\n', '\r\n', '\r']) {
      const { diagnostics } = parseConfig(lines.join(eol) + eol, 'f.yaml', { defaultUser: 'deploy' });
      expect(
        diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`),
        JSON.stringify(eol),
      ).toEqual(['4:11 expected head or worker, found "haed"']);
    }
  });
});

describe('a key glued to its value', () => {
  it('as the only key of a mapping: the fix names the key and value', () => {
    const { diagnostics } = parse([
      'nodes:',
      '  - ssh_url: "10.0.0.1:22"',
      '    name: ray-head',
      '    role: head',
      '    ray_config:',
      '      num_cpus:8',
    ]);
    expect(diagnostics.map((d) => [d.line, d.message, d.hint])).toEqual([
      [
        6,
        'expected a mapping of Ray settings (num_cpus: 8, ...), found "num_cpus:8"',
        'add a space after the colon: `num_cpus: 8`',
      ],
    ]);
  });
});
