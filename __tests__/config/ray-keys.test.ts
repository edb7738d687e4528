// The one table of ray_config keys: every reader agrees with it, remote_lib's `ray start` flags too.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { RAY_KEYS } from '../../src/config/ray-keys';
import { KEYS_BY_SECTION } from '../../src/config/schema';
import { rayArgs } from '../../src/engine/decisions/desired';

function parse(head: string[], worker: string[] = []) {
  const node = (name: string, role: string, ray: string[]) => [
    `  - ssh_url: "${name}:22"`,
    `    name: ${name}`,
    `    role: ${role}`,
    ...(ray.length ? ['    ray_config:', ...ray.map((l) => `      ${l}`)] : []),
  ];
  const text = [
    'ray_spec: {dashboard_port: 8300}',
    'nodes:',
    ...node('h', 'head', head),
    ...node('w', 'worker', worker),
  ];
  return parseConfig(text.join('\n'), 'ray-config.yaml', { defaultUser: 'u' });
}

describe('the ray_config key table', () => {
  it('is the set of keys the schema allows under ray_config', () => {
    expect([...KEYS_BY_SECTION['nodes[].ray_config']!].sort()).toEqual(RAY_KEYS.map((k) => k.yaml).sort());
  });

  it('fills in the head defaults once, at the model (dashboard_port from ray_spec)', () => {
    const { config, diagnostics } = parse([]);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(config!.head.ray).toEqual({ port: 10001, gcsPort: 6379, dashboardPort: 8300 });
    expect(config!.workers[0]!.ray).toEqual({});
  });

  it('refuses every head-only key on a worker, with the reason from the table', () => {
    const headOnly = RAY_KEYS.filter((k) => k.headOnly);
    const { diagnostics } = parse(
      [],
      headOnly.map((k) => `${k.yaml}: ${String(k.example)}`),
    );
    for (const key of headOnly) {
      expect(diagnostics.find((d) => d.path === `nodes[1].ray_config.${key.yaml}`)?.message).toContain(key.headOnly);
    }
  });

  it("every key's example is valid, reaches the model and the ray start arguments under its YAML name", () => {
    const lines = RAY_KEYS.map((k) => `${k.yaml}: ${JSON.stringify(k.example)}`);
    const { config, diagnostics } = parse(lines);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const args = rayArgs(config!, config!.head, '10.0.0.1');
    for (const key of RAY_KEYS) {
      expect(config!.head.ray[key.model]).toEqual(key.example);
      if (key.yaml === 'labels') expect(args.labels).toMatchObject(key.example as object);
      else expect(args[key.yaml]).toEqual(key.example);
    }
  });

  it("remote_lib passes each key as the table's `ray start` flag", () => {
    const head = Object.fromEntries(RAY_KEYS.map((k) => [k.yaml, k.example]));
    const script = [
      'import json, sys',
      'sys.path.insert(0, "remote_lib")',
      'import nokube_remote as lib',
      'print(json.dumps(lib.build_start_argv("head", json.loads(sys.argv[1]), "/t", ray_version="2.60.0")))',
    ].join('\n');
    const argv = JSON.parse(
      execFileSync('python3', ['-c', script, JSON.stringify(head)], { encoding: 'utf8' }),
    ) as string[];
    for (const key of RAY_KEYS) {
      expect(
        argv.some((a) => a.startsWith(`${key.flag}=`)),
        `${key.yaml} -> ${key.flag}`,
      ).toBe(true);
    }
  });
});
