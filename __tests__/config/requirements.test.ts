// ray_spec.install.requirements: the file beside the config, read on the deployer; packages: the list.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { parseRequirementsFile } from '../../src/config/requirements';

const config = (install: string) =>
  `ray_spec:\n  ray_version: "2.60.0"\n  install: ${install}\nnodes:\n  - ssh_url: "10.0.0.1:22"\n    name: head\n    role: head\n`;

describe('the cluster packages in the config', () => {
  it('reads the requirements file beside the config (hashes kept on the line), then packages', () => {
    const dir = mkdtempSync(join(tmpdir(), 'req-'));
    writeFileSync(
      join(dir, 'requirements.txt'),
      '# ours\ntabulate==0.9.0 \\\n    --hash=sha256:0123abcd\n\ntoolz==1.0.0  # pinned\n',
    );
    writeFileSync(join(dir, 'ray.yaml'), config('{requirements: requirements.txt, packages: [six, "click==8.1.7"]}'));
    const r = loadConfig(join(dir, 'ray.yaml'), { defaultUser: 'u' });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.config!.install!.requirements).toEqual([
      { name: 'tabulate', version: '0.9.0', line: 'tabulate==0.9.0 --hash=sha256:0123abcd' },
      { name: 'toolz', version: '1.0.0', line: 'toolz==1.0.0' },
      { name: 'six', line: 'six' },
      { name: 'click', version: '8.1.7', line: 'click==8.1.7' },
    ]);
    expect(r.config!.install!.timeoutSec).toBe(1800);
  });

  it('a missing file is an error at the key, naming the path it looked for', () => {
    const dir = mkdtempSync(join(tmpdir(), 'req-'));
    writeFileSync(join(dir, 'ray.yaml'), config('{requirements: reqs.txt}'));
    const r = loadConfig(join(dir, 'ray.yaml'), { defaultUser: 'u' });
    expect(r.config).toBeUndefined();
    expect(r.diagnostics[0]).toMatchObject({ line: 3, path: 'ray_spec.install.requirements' });
    expect(r.diagnostics[0]!.message).toBe(
      `the requirements file ${join(dir, 'reqs.txt')} cannot be read (it does not exist)`,
    );
  });

  it('an unpinned line or a pip option is an error at its line in the file', () => {
    const r = parseRequirementsFile('tabulate==0.9.0\ntoolz\n-r other.txt\n', 'requirements.txt');
    expect(r.diagnostics.map((d) => [d.line, d.message])).toEqual([
      [2, 'toolz is not pinned: the nodes would install whatever version the index has that day'],
      [3, '-r is not taken in a requirements file of ray_spec.install: only packages (name==version) and --hash'],
    ]);
  });
});
