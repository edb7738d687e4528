import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { desiredSpec, specDrift } from '../../src/engine/decisions/desired';
import { noTokenAuthWarning } from '../../src/engine/decisions/no-token-auth';
import type { ProbeAnswer } from '../../src/remote/types';
import { renderTerminal } from '../../src/render';
import { renderPlanComment } from '../../src/render/comment';
import { renderSummary } from '../../src/render/summary';
import { result } from '../render/fixtures';
import { cluster, node } from './fixtures';

const probe = (version: string, tokenAuth: boolean) =>
  ({ ok: true, ray: { version, python: '/usr/bin/python3', token_auth: tokenAuth } }) as unknown as ProbeAnswer;

function parsed(headRay: string, workerRay = '{num_cpus: 1}') {
  const text = [
    'nodes:',
    '  - ssh_url: "10.0.0.1:22"',
    '    name: head',
    '    role: head',
    `    ray_config: ${headRay}`,
    '  - ssh_url: "10.0.0.2:22"',
    '    name: w1',
    '    role: worker',
    `    ray_config: ${workerRay}`,
  ].join('\n');
  return parseConfig(text, 'ray-config.yaml', { defaultUser: 'u' });
}

describe('a head without token authentication (Ray < 2.52)', () => {
  const c = cluster([node('head', 'head', '10.0.0.1'), node('w1', 'worker', '10.0.0.2')]);

  it('is warned about, naming the head, its Ray and where the dashboard listens', () => {
    const w = noTokenAuthWarning(c, probe('2.40.0', false))!;
    expect(w).toMatch(/head head runs Ray 2\.40\.0, which has no token authentication/);
    expect(w).toContain("bound to the node's own address (10.0.0.1)");
    expect(noTokenAuthWarning(c, probe('2.60.0', true))).toBeUndefined();
    expect(noTokenAuthWarning(c, undefined)).toBeUndefined();
  });

  it('judges by ray_spec.ray_version when the head has not got that Ray yet (a plan before the install)', () => {
    const old = (rayVersion: string) =>
      cluster([node('head', 'head', '10.0.0.1'), node('w1', 'worker', '10.0.0.2')], {
        rayVersion,
        install: { extras: ['default'], requirements: [], timeoutSec: 1800 },
      });
    for (const now of [undefined, { ok: true, ray: null } as unknown as ProbeAnswer, probe('2.60.0', true)]) {
      expect(noTokenAuthWarning(old('2.51.2'), now)).toMatch(
        /head head gets Ray 2\.51\.2 \(ray_spec\.ray_version\), which has no token authentication/,
      );
    }
    expect(noTokenAuthWarning(old('2.51.2'), probe('2.51.2', false))).toMatch(/head head runs Ray 2\.51\.2, which/);
    // the head's old Ray is replaced by one with token auth: nothing to warn about
    for (const v of ['2.52.0', '2.60.0', '3.0.0'])
      expect(noTokenAuthWarning(old(v), probe('2.40.0', false))).toBeUndefined();
    expect(noTokenAuthWarning(old('1.13.1'), undefined)).toContain('no token authentication');
  });

  it("says the dashboard is on loopback when the head's address is IPv6 (an old Ray's dashboard cannot bind one)", () => {
    const v6 = cluster([node('head', 'head', 'fd00::11'), node('w1', 'worker', '10.0.0.2')]);
    expect(noTokenAuthWarning(v6, probe('2.51.2', false))).toContain(
      "it is bound to 127.0.0.1 (the head's address is IPv6, which this Ray's dashboard cannot bind",
    );
  });

  it('the warning reaches the terminal output, the summary and the PR comment', () => {
    const r = result({ command: 'plan', warnings: [noTokenAuthWarning(c, probe('2.40.0', false))!] });
    expect(renderTerminal(r, { color: false })).toContain('no token authentication');
    expect(renderSummary(r, {})).toContain('no token authentication');
    expect(renderPlanComment(r, { configPath: 'ray-config.yaml' })).toContain('no token authentication');
  });

  it('says where ray_config.dashboard_host puts the dashboard, every interface included', () => {
    const open = cluster([
      node('head', 'head', '10.0.0.1', { dashboardHost: '0.0.0.0' }),
      node('w1', 'worker', '10.0.0.2'),
    ]);
    expect(noTokenAuthWarning(open, probe('2.40.0', false))).toContain(
      'ray_config.dashboard_host 0.0.0.0 makes it listen on every interface of the head',
    );
    const local = cluster([
      node('head', 'head', '10.0.0.1', { dashboardHost: '127.0.0.1' }),
      node('w1', 'worker', '10.0.0.2'),
    ]);
    expect(noTokenAuthWarning(local, probe('2.40.0', false))).toContain(
      'bound to 127.0.0.1 (ray_config.dashboard_host)',
    );
  });
});

describe('ray_config.dashboard_host', () => {
  it('is accepted on the head and reaches the ray start arguments (remote_lib passes --dashboard-host)', () => {
    const { config, diagnostics } = parsed('{port: 10001, dashboard_host: "127.0.0.1"}');
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(config!.head.ray.dashboardHost).toBe('127.0.0.1');
    expect(desiredSpec(config!, config!.head, '10.0.0.1', undefined).ray.dashboard_host).toBe('127.0.0.1');
    // workers have no dashboard: nothing is sent for them
    expect(desiredSpec(config!, config!.workers[0]!, '10.0.0.2', '10.0.0.1:6379').ray).not.toHaveProperty(
      'dashboard_host',
    );
  });

  it('changing it restarts the head (drift names the field, old and new value)', () => {
    const before = parsed('{port: 10001}').config!;
    const after = parsed('{port: 10001, dashboard_host: "10.0.0.1"}').config!;
    const drift = specDrift(
      desiredSpec(before, before.head, '10.0.0.1', undefined),
      desiredSpec(after, after.head, '10.0.0.1', undefined),
    );
    expect(drift).toEqual([{ field: 'ray_config.dashboard_host', from: '(unset)', to: '10.0.0.1' }]);
  });

  it('refuses a value that is not an address, at its line, and the key on a worker', () => {
    const bad = parsed('{port: 10001, dashboard_host: "every-where"}');
    const error = bad.diagnostics.find((d) => d.path === 'nodes[0].ray_config.dashboard_host')!;
    expect(error.message).toBe('"every-where" is not an IPv4 or IPv6 address');
    expect(error.hint).toContain('0.0.0.0 (every interface)');
    expect(error.line).toBe(5);
    const onWorker = parsed('{port: 10001}', '{dashboard_host: "0.0.0.0"}');
    expect(onWorker.diagnostics.find((d) => d.path === 'nodes[1].ray_config.dashboard_host')?.message).toBe(
      'dashboard_host is a head-only setting, but this node is a worker (the dashboard runs on the head)',
    );
  });
});
