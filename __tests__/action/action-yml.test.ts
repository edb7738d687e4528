// action.yml against SPEC §4, and the README's generated tables against action.yml.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const REPO = resolve(__dirname, '..', '..');
const action = parse(readFileSync(join(REPO, 'action.yml'), 'utf8')) as {
  name: string;
  description: string;
  branding: { icon: string; color: string };
  inputs: Record<string, { description: string; default?: string; required?: boolean }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
};

describe('action.yml', () => {
  it('runs the committed bundle on node24', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(action.name).toBeTruthy();
    expect(action.branding.icon).toBeTruthy();
  });

  it('has every input of the SPEC with its default', () => {
    const defaults = Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default]));
    expect(defaults).toEqual({
      command: 'plan',
      config: 'ray-config.yaml',
      'ssh-private-key': undefined,
      'ssh-passphrase': undefined,
      'ssh-user': undefined,
      'known-hosts': undefined,
      'insecure-skip-host-key-check': 'false',
      'allow-missing-env': 'false',
      'github-token': '${{ github.token }}',
      'comment-on-pr': 'true',
      'fail-on-unhealthy': 'true',
      concurrency: '16',
      timeout: '300',
      'wait-lock': '',
      'no-drain': 'false',
    });
    for (const [name, input] of Object.entries(action.inputs)) {
      expect(input.description, name).toMatch(/\w{3}/);
      expect(input.required ?? false, name).toBe(false);
    }
  });

  it('has every output of the SPEC, each described', () => {
    expect(Object.keys(action.outputs)).toEqual([
      'status',
      'head-address',
      'client-address',
      'dashboard-url',
      'nodes',
      'alive-nodes',
      'expected-nodes',
      'changes',
      'restarts',
      'plan',
      'job-id',
      'job-status',
      'cpus-used',
      'cpus-total',
      'resources',
      'check',
      'firewall',
      'logs',
    ]);
    for (const [name, output] of Object.entries(action.outputs)) expect(output.description, name).toMatch(/\w{3}/);
  });
});

describe('README inputs and outputs tables', () => {
  it('match action.yml (node scripts/gen-readme-io.mjs regenerates them)', () => {
    const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'gen-readme-io.mjs'), '--check'], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    for (const name of [...Object.keys(action.inputs), ...Object.keys(action.outputs)])
      expect(readme).toContain(`| \`${name}\` |`);
  });
});
