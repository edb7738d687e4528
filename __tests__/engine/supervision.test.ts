import { describe, expect, it } from 'vitest';
import { desiredSpec } from '../../src/engine/decisions/desired';
import { livePlan, type LiveNode } from '../../src/engine/decisions/plan-diff';
import { launcherWarning, nodeSupervision, supervisionWarnings } from '../../src/engine/decisions/supervision';
import type { AppliedSpec, SupervisionReport } from '../../src/remote/types';
import { threeNodes } from './fixtures';

const report = (over: Partial<SupervisionReport> = {}): SupervisionReport => ({
  launcher: 'cron',
  state: 'running',
  alive: true,
  paused: false,
  restarts: 0,
  last_restart: null,
  last_exit: null,
  tries: 0,
  ...over,
});

describe('supervision in status', () => {
  it('names the last restart: when, which process, and the signal', () => {
    const s = nodeSupervision(
      report({ restarts: 1, last_restart: { at: 1_700_000_000, process: 'raylet', signal: 'SIGKILL' } }),
    )!;
    expect(s).toMatchObject({ launcher: 'cron', state: 'running', restarts: 1 });
    expect(s.lastRestart).toEqual({
      at: '2023-11-14T22:13:20.000Z',
      process: 'raylet',
      why: 'killed by SIGKILL',
      signal: 'SIGKILL',
    });
  });

  it('a crash loop is a warning with the last exit and the end of its log', () => {
    const s = nodeSupervision(
      report({
        state: 'crash-loop',
        tries: 6,
        last_exit: { at: 1_700_000_000, process: 'ray start', exit_code: 2, log_tail: 'Error: no such option: --x' },
      }),
    );
    const [w] = supervisionWarnings('w1', s);
    expect(w).toMatch(/^w1 is crash-looping: .*last: ray start exit code 2/);
    expect(w).toContain('Error: no such option: --x');
  });

  it('restarts since the last check are named once, with the node', () => {
    const s = nodeSupervision(
      report({ restarts: 2, new_restarts: 1, last_restart: { at: 1, process: 'gcs_server', exit_code: 1 } }),
    );
    expect(supervisionWarnings('head', s)).toEqual([
      'head restarted 1 time since the last status check (last: gcs_server exit code 1 at 1970-01-01T00:00:01.000Z)',
    ]);
    expect(supervisionWarnings('head', nodeSupervision(report({ restarts: 2, new_restarts: 0 })))).toEqual([]);
  });

  it('a node never supervised, and an older library that does not say', () => {
    expect(nodeSupervision(null, 'detached')).toEqual({ launcher: 'detached', state: 'none', restarts: 0 });
    expect(nodeSupervision(undefined)).toBeUndefined();
  });

  it('plan warns only where a reboot would not bring the node back', () => {
    expect(launcherWarning('w1', 'detached')).toMatch(/w1 has neither systemd nor cron: .*enable-linger/);
    for (const l of ['systemd', 'systemd-user', 'cron'] as const) expect(launcherWarning('w1', l)).toBeUndefined();
  });
});

describe('supervision in the live plan', () => {
  const running = (applied: AppliedSpec, supervised?: boolean): LiveNode => ({
    reachable: true,
    running: true,
    applied,
    alive: true,
    supervised,
  });

  it('a node running without its supervisor restarts under restart: always; kept when it is supervised', () => {
    const c = threeNodes();
    const wanted = new Map(c.nodes.map((n) => [n.name, desiredSpec(c, n, n.host, '10.0.0.1:6379')]));
    const live = new Map([
      ['head', running(wanted.get('head')!, true)],
      ['w1', running(wanted.get('w1')!, false)],
      ['w2', running(wanted.get('w2')!, undefined)],
    ]);
    const plan = livePlan(c, wanted, live);
    expect(plan.map((p) => `${p.node}:${p.action}`)).toEqual(['head:keep', 'w1:restart', 'w2:keep']);
    expect(plan[1].reason).toMatch(/without its supervisor/);
    const never = livePlan({ ...c, restart: 'never' }, wanted, live);
    // the head's restart takes the workers with it
    expect(never.map((p) => `${p.node}:${p.action}`)).toEqual(['head:restart', 'w1:restart', 'w2:restart']);
    expect(never[0].reason).toMatch(/restart is never/);
  });
});
