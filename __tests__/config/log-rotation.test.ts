// ray_spec.log_rotation and keep_dead_worker_logs: defaults, sizes in the user's words, mistakes named.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { desiredSpec, specDrift } from '../../src/engine/decisions/desired';
import { livePlan, offlinePlan, type LiveNode } from '../../src/engine/decisions/plan-diff';

const config = (spec: string[]) =>
  parseConfig(
    [
      ...(spec.length ? ['ray_spec:', ...spec.map((l) => `  ${l}`)] : []),
      'nodes:',
      '  - ssh_url: head-server',
      '    name: head',
      '    role: head',
      '  - ssh_url: w1',
      '    name: w1',
      '    role: worker',
      '',
    ].join('\n'),
    'ray-config.yaml',
    { defaultUser: 'ubuntu' },
  );

const errorsOf = (spec: string[]) =>
  config(spec)
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => `${d.line}:${d.col} ${d.message}`);

describe('ray_spec.log_rotation', () => {
  it("defaults to Ray's own rotation (512 MiB, 5 copies) and keeps 1000 exited workers' logs", () => {
    const c = config([]).config!;
    expect(c.logRotation).toEqual({ maxBytes: 512 * 1024 * 1024, backupCount: 5 });
    expect(c.keepDeadWorkerLogs).toBe(1000);
    expect(desiredSpec(c, c.head, 'h', undefined).log_rotation).toEqual({
      max_bytes: 536870912,
      backup_count: 5,
    });
  });

  it('takes bytes, or a whole number with KB/MB/GB (1000) or KiB/MiB/GiB (1024)', () => {
    const size = (v: string) => config([`log_rotation: {max_bytes: ${v}}`]).config!.logRotation.maxBytes;
    expect(size('4096')).toBe(4096);
    expect(size('100MiB')).toBe(100 * 1024 * 1024);
    expect(size('512MB')).toBe(512e6);
    expect(size('2GiB')).toBe(2 * 1024 ** 3);
    expect(size('"64KB"')).toBe(64000);
    const c = config(['log_rotation: {backup_count: 2}', 'keep_dead_worker_logs: 10']).config!;
    expect(c.logRotation).toEqual({ maxBytes: 512 * 1024 * 1024, backupCount: 2 });
    expect(c.keepDeadWorkerLogs).toBe(10);
  });

  it('names a size it cannot read, a size too small and no copies at all, where they are written', () => {
    expect(errorsOf(['log_rotation:', '  max_bytes: 1.5GiB'])).toEqual([
      expect.stringMatching(/^3:16 .*expected a size of at least 1024 bytes.*found "1.5GiB"/),
    ]);
    expect(errorsOf(['log_rotation: {max_bytes: 100}'])).toEqual([
      expect.stringMatching(/^2:29 .*expected a size of at least 1024 bytes.*found 100/),
    ]);
    expect(errorsOf(['log_rotation: {backup_count: 0}'])).toEqual([
      expect.stringMatching(/^2:32 .*from 1 to 1000.*found 0/),
    ]);
    expect(errorsOf(['log_rotation: {max_size: 10MiB}'])).toEqual([expect.stringMatching(/^2:18 .*max_size/)]);
    expect(errorsOf(['keep_dead_worker_logs: -1'])).toEqual([expect.stringMatching(/^2:26 .*found -1/)]);
  });

  it("a change is drift that restarts every node; a node started before nokube set it ran with Ray's defaults", () => {
    const before = config([]).config!;
    const after = config(['log_rotation: {max_bytes: 100MiB, backup_count: 3}']).config!;
    const plan = offlinePlan(after, before);
    expect(plan.map((p) => `${p.node}:${p.action}`)).toEqual(['head:restart', 'w1:restart']);
    expect(plan[0]!.drift).toEqual([
      {
        field: 'ray_spec.log_rotation',
        from: 'max_bytes 512MiB, backup_count 5',
        to: 'max_bytes 100MiB, backup_count 3',
      },
    ]);
    // applied.json of an older nokube has no log_rotation: the same as the default, no restart
    const wanted = desiredSpec(before, before.head, 'h', undefined);
    const { log_rotation: _, ...older } = wanted;
    expect(specDrift(older, wanted)).toEqual([]);
    expect(specDrift(older, desiredSpec(after, after.head, 'h', undefined))).toHaveLength(1);
  });

  it('keep_dead_worker_logs alone restarts nothing (the supervisor reads it at the next start)', () => {
    const before = config([]).config!;
    const after = config(['keep_dead_worker_logs: 5']).config!;
    expect(offlinePlan(after, before).map((p) => p.action)).toEqual(['keep', 'keep']);
    const wanted = new Map(after.nodes.map((n) => [n.name, desiredSpec(after, n, n.host, '10.0.0.1:6379')]));
    const live = new Map<string, LiveNode>(
      before.nodes.map((n) => [
        n.name,
        {
          reachable: true,
          running: true,
          alive: true,
          supervised: true,
          applied: desiredSpec(before, n, n.host, '10.0.0.1:6379'),
        },
      ]),
    );
    expect(livePlan(after, wanted, live).map((p) => p.action)).toEqual(['keep', 'keep']);
  });
});
