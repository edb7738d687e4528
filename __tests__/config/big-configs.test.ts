// Big configs: the one real error stays on top, and a warning that applies to many nodes is said once.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { parseConfig } from '../../src/config';

/** A head and `workers` workers without `users` (as in the design note's multi-node example). */
function cluster(workers: number, mistake = ''): string {
  const lines = ['nodes:', '  - {ssh_url: "10.0.0.1:22", name: ray-head, role: head}'];
  for (let i = 1; i <= workers; i++) {
    lines.push(`  - ssh_url: "10.1.${i >> 8}.${i & 255}:22"`, `    name: ray-worker-${i}`, '    role: worker');
    if (i === workers - 1 && mistake) lines.push(`    ${mistake}`);
  }
  return lines.join('\n') + '\n';
}

describe('one warning per kind', () => {
  it('the note-style config without users: one warning naming every node', () => {
    const { diagnostics } = parseConfig(cluster(3), 'ray-config.yaml');
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      severity: 'warning',
      line: 2,
      path: 'nodes[]',
      message:
        'no users and no default login user was given (4 nodes: ray-head, ray-worker-1, ray-worker-2, ray-worker-3)',
      nodes: ['ray-head', 'ray-worker-1', 'ray-worker-2', 'ray-worker-3'],
    });
    expect(diagnostics[0]!.node).toBeUndefined();
  });

  it('a single node keeps its own warning', () => {
    const { diagnostics } = parseConfig(cluster(0), 'ray-config.yaml');
    expect(diagnostics.map((d) => [d.node, d.message])).toEqual([
      ['ray-head', 'no users and no default login user was given'],
    ]);
  });

  it('1,000 nodes: the message names the first ten and counts the rest; `nodes` has all', () => {
    const { diagnostics } = parseConfig(cluster(999), 'ray-config.yaml');
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.message).toMatch(/\(1000 nodes: ray-head, ray-worker-1, .*ray-worker-9 and 990 more\)$/);
    expect(diagnostics[0]!.nodes).toHaveLength(1000);
  });
});

describe('the CLI on a 1,000-node config with one mistake', () => {
  it('prints the error first, then the one warning, and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nokube-big-'));
    const file = join(dir, 'ray-config.yaml');
    writeFileSync(file, cluster(999, 'ray_config: {num_cpus: four}'));
    let stderr = '';
    const code = await main(['ray', 'validate', '--config', file], {
      stdout: () => undefined,
      stderr: (t) => (stderr += t),
      env: { HOME: dir },
      isTTY: false,
    });
    expect(code).toBe(2);
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /:2997:\d+: error: nodes\[998\]\.ray_config\.num_cpus: expected a non-negative integer, found "four"/,
    );
    expect(lines[1]).toMatch(/:2:5: warning: nodes\[\]: no users and no default login user was given \(1000 nodes/);
  });
});
