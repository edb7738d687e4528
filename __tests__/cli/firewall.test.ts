// `nokube ray firewall`: offline (no SSH), one node with --node, --json, and every slip an exit 2.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { bashCompletion } from '../../src/cli/completion';

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: { HOME: tmpdir() },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'nokube-firewall-'));
const config = join(dir, 'ray-config.yaml');
// unreachable addresses (TEST-NET-1): the command must not try to connect
writeFileSync(
  config,
  [
    'ray_spec: {ports: {node_manager_port: 8076, object_manager_port: 8077}}',
    'nodes:',
    '  - {ssh_url: "192.0.2.1:22", name: head, role: head, users: [{userid: u, password: "${NOT_SET}"}]}',
    '  - {ssh_url: "192.0.2.2:22", name: w1, role: worker, users: [{userid: u, password: "${NOT_SET}"}]}',
    '',
  ].join('\n'),
);

describe('nokube ray firewall', () => {
  it('prints one node as a loadable part, needs no secret and no SSH', async () => {
    const r = await cli(['ray', 'firewall', '-c', config, '--format', 'iptables', '--node', 'w1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('# node w1 (worker, 192.0.2.2); the other nodes: head 192.0.2.1\n');
    expect(r.stdout).toContain(
      'iptables -I INPUT -s 192.0.2.1 -p tcp --dport 8077 -m comment --comment "ray object manager (object_manager_port)" -j ACCEPT\n',
    );
    expect(r.stdout).not.toContain('node head');
  });

  it('--json is the plan', async () => {
    const r = await cli(['ray', 'firewall', '-c', config, '--json', '--deployer', '198.51.100.7']);
    const plan = JSON.parse(r.stdout) as { deployer: string; nodes: { node: string; rules: unknown[] }[] };
    expect(plan.deployer).toBe('198.51.100.7');
    expect(plan.nodes.map((n) => n.node)).toEqual(['head', 'w1']);
    expect(plan.nodes[0]!.rules).toContainEqual({
      ports: [6379, 6379],
      what: 'GCS (gcs_port)',
      from: 'nodes',
      known: 'config',
    });
  });

  it.each([
    [['--format', 'pf'], '--format must be one of table, ufw, firewalld, nftables, iptables, got "pf"'],
    [['--deployer', '203.0.113.0/33'], '--deployer must be an IPv4 or IPv6 address'],
    [['--deployer', 'office; rm -rf /'], '--deployer must be an IPv4 or IPv6 address'],
    [['--node', 'w9'], 'no node named w9'],
  ])('%j is refused (exit 2)', async (extra, message) => {
    const r = await cli(['ray', 'firewall', '-c', config, ...extra]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('an invalid config is reported as validate reports it', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'ray_spec: {ports: {min_worker_port: 11000}}\nnodes:\n  - {ssh_url: "h:22", name: h, role: head}\n',
    );
    const r = await cli(['ray', 'firewall', '-c', bad, '-u', 'u']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${bad}:1:37: error: ray_spec.ports.min_worker_port: min_worker_port is set without max_worker_port`,
    );
  });

  it('--deployer is only for firewall; bash completes firewall and its flags', async () => {
    expect((await cli(['ray', 'plan', '--deployer', '1.2.3.4'])).stderr).toContain('--deployer is only for firewall');
    const file = join(dir, 'completion.bash');
    writeFileSync(file, bashCompletion());
    const complete = (words: string[]) =>
      execFileSync(
        'bash',
        [
          '-c',
          `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _nokube; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { encoding: 'utf8' },
      )
        .split('\n')
        .filter(Boolean);
    expect(complete(['nokube', 'ray', 'fire'])).toEqual(['firewall']);
    expect(complete(['nokube', 'ray', 'firewall', '--de'])).toEqual(['--deployer']);
    expect(complete(['nokube', 'ray', 'firewall', '--fo'])).toEqual(['--format']);
  });
});
