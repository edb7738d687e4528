// A plain-http package index keeps working (pip gets --trusted-host) but is warned at validate
// time, at its line and column, naming the risk and the fix.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, parseConfig } from '../../src/config';

function configWith(install: string[]): string {
  return [
    'ray_spec:',
    '  ray_version: "2.60.0"',
    '  install:',
    ...install.map((l) => `    ${l}`),
    'nodes:',
    '  - {ssh_url: "10.0.0.1:22", name: head, role: head, ray_config: {port: 10001}}',
  ].join('\n');
}

describe('ray_spec.install over plain http', () => {
  it('warns for index_url and find_links at their values, naming the risk and the fix', () => {
    const r = parseConfig(
      configWith(['index_url: "http://10.0.0.9:8080/simple"', 'find_links: http://[fd00::9]/wheels']),
      'ray-config.yaml',
      { defaultUser: 'u' },
    );
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const lines = r.diagnostics.filter((d) => d.severity === 'warning').map(formatDiagnostic);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^ray-config\.yaml:4:16: warning: ray_spec\.install\.index_url: index_url is plain http: pip is given --trusted-host 10\.0\.0\.9, so anyone on the network .* can replace the packages it installs, and their code then runs on every node/,
    );
    expect(lines[0]).toContain('(hint: serve it over https (index_url: "https://10.0.0.9:8080/simple"))');
    expect(lines[1]).toMatch(
      /^ray-config\.yaml:5:17: warning: ray_spec\.install\.find_links: find_links is plain http/,
    );
    expect(lines[1]).toContain('--trusted-host [fd00::9]');
    expect(lines[1]).toContain('or copy the wheels to the nodes');
  });

  it('says nothing of https, file:// or a directory on the nodes', () => {
    for (const install of [
      ['index_url: https://pypi.example.com/simple'],
      ['find_links: file:///opt/wheels'],
      ['find_links: /opt/wheels'],
    ]) {
      const r = parseConfig(configWith(install), 'ray-config.yaml', { defaultUser: 'u' });
      expect(r.diagnostics, install[0]).toEqual([]);
    }
  });
});
