// What the cluster is doing (`status`): used / total and pending demand, rendered for the terminal,
// the job summary, the Action's outputs and `--watch` (exact text for one fixture).
import { describe, expect, it } from 'vitest';
import type { ClusterUsage, RunResult } from '../../src/engine/types';
import { renderSummary, renderTerminal, runOutputs } from '../../src/render';
import { demandText } from '../../src/render/usage';
import { watchHeader, watchLine, watchLineAt } from '../../src/render/watch';
import { nodeReport, result } from './fixtures';

const GiB = 1024 ** 3;

const USAGE: ClusterUsage = {
  known: true,
  measuredAt: Date.UTC(2026, 11, 7, 21, 30, 0),
  total: {
    CPU: { used: 2, total: 12 },
    GPU: { used: 0.5, total: 1 },
    memory: { used: 0, total: 12 * GiB },
    object_store_memory: { used: 1024 * 1024, total: 2 * GiB },
  },
  pending: [
    { kind: 'tasks', bundles: [{ resources: { CPU: 64 }, count: 1 }], count: 1 },
    { kind: 'placement-group', bundles: [{ resources: { CPU: 4, GPU: 1 }, count: 2 }], strategy: 'PACK', count: 1 },
    { kind: 'requested', bundles: [{ resources: { CPU: 16 }, count: 1 }], count: 2 },
  ],
};

function busy(extra: Partial<RunResult> = {}): RunResult {
  return result({
    nodes: [
      nodeReport('ray-head', 'head', '10.0.0.1', {
        state: 'running',
        rayVersion: '2.60.0',
        resources: { CPU: 8, memory: 8 * GiB },
        usage: { CPU: { used: 0, total: 8 }, memory: { used: 0, total: 8 * GiB } },
      }),
      nodeReport('ray-w1', 'worker', '10.0.0.2', {
        state: 'running',
        rayVersion: '2.60.0',
        resources: { CPU: 4, GPU: 1 },
        usage: { CPU: { used: 2, total: 4 }, GPU: { used: 0.5, total: 1 } },
      }),
    ],
    usage: USAGE,
    timings: [],
    ...extra,
  });
}

describe('what the cluster is doing', () => {
  it('terminal: used/total per node in the table, then the total and each pending demand', () => {
    const text = renderTerminal(busy(), { color: false });
    const from = text.indexOf('nodes\n');
    expect(text.slice(from)).toBe(
      [
        'nodes',
        '  NODE      ROLE    HOST      STATE    RAY VERSION  RESOURCES                    ERROR',
        '  ray-head  head    10.0.0.1  running  2.60.0       CPU 0/8, memory 0 B/8.0 GiB',
        '  ray-w1    worker  10.0.0.2  running  2.60.0       CPU 2/4, GPU 0.5/1',
        '',
        'resources (used/total): CPU 2/12, GPU 0.5/1, memory 0 B/12.0 GiB, object_store_memory 1.0 MiB/2.0 GiB',
        'pending demand',
        '  {CPU: 64}: 1+ pending tasks/actors',
        '  {CPU: 4, GPU: 1} * 2 (PACK): 1+ pending placement group',
        '  {CPU: 16}: 2 from request_resources()',
      ].join('\n'),
    );
  });

  it('terminal: nothing pending says none; a Ray that does not say is unknown, with why', () => {
    const idle = renderTerminal(busy({ usage: { ...USAGE, pending: [] } }), { color: false });
    expect(idle).toContain('\npending demand: none');
    const unknown = renderTerminal(
      busy({ usage: { known: false, why: 'the head is not running', total: {}, pending: [] } }),
      { color: false },
    );
    expect(unknown).toContain('\nresources (used/total): unknown (the head is not running)');
    expect(unknown).not.toContain('pending demand');
  });

  it('a command without usage (plan, start) shows no resources section and the configured totals', () => {
    const text = renderTerminal(result(), { color: false });
    expect(text).not.toContain('used/total');
    expect(text).toContain('CPU 8, memory 8.0 GiB');
  });

  it('job summary: a Resources section with the total and the pending demand as a list', () => {
    const md = renderSummary(busy());
    expect(md).toContain(
      [
        '### Resources',
        '',
        'Used / total: CPU 2/12, GPU 0.5/1, memory 0 B/12.0 GiB, object_store_memory 1.0 MiB/2.0 GiB',
        '',
        'Pending demand:',
        '',
        '- {CPU: 64}: 1+ pending tasks/actors',
        '- {CPU: 4, GPU: 1} * 2 (PACK): 1+ pending placement group',
        '- {CPU: 16}: 2 from request_resources()',
      ].join('\n'),
    );
    expect(md).toContain('| ray-w1 | worker | 10.0.0.2 | running | 2.60.0 | CPU 2/4, GPU 0.5/1 |');
  });

  it("the Action's outputs (and --json): cpus-used, cpus-total, resources, and each node's usage", () => {
    const out = runOutputs(busy());
    expect(out['cpus-used']).toBe(2);
    expect(out['cpus-total']).toBe(12);
    expect(out.resources).toEqual({
      known: true,
      measured_at: '2026-12-07T21:30:00.000Z',
      total: USAGE.total,
      pending: USAGE.pending,
    });
    expect(out.nodes[1].usage).toEqual({ CPU: { used: 2, total: 4 }, GPU: { used: 0.5, total: 1 } });
    const unknown = runOutputs(busy({ usage: { known: false, why: 'x', total: {}, pending: [] } }));
    expect([unknown['cpus-used'], unknown['cpus-total'], unknown.resources]).toEqual([
      '',
      '',
      { known: false, why: 'x', total: {}, pending: [] },
    ]);
    const plan = runOutputs(result({ command: 'plan' }));
    expect([plan['cpus-used'], plan.resources, 'usage' in plan.nodes[0]]).toEqual(['', null, false]);
  });

  it('--watch: one line per round with the time, and a header above a redrawn terminal', () => {
    expect(watchLine(busy())).toBe(
      'healthy: 2 of 2 nodes alive; used CPU 2/12, GPU 0.5/1, memory 0 B/12.0 GiB, object_store_memory 1.0 MiB/2.0 GiB; ' +
        'pending {CPU: 64}: 1+ pending tasks/actors; {CPU: 4, GPU: 1} * 2 (PACK): 1+ pending placement group; ' +
        '{CPU: 16}: 2 from request_resources(); ray-head running CPU 0/8, ray-w1 running CPU 2/4',
    );
    const at = new Date(Date.UTC(2026, 11, 7, 21, 30, 5, 123));
    expect(watchLineAt('x', at)).toBe('2026-12-07T21:30:05Z x');
    expect(watchHeader(2, at)).toBe('every 2 s · 21:30:05 UTC · Ctrl-C to stop');
    const down = busy({ status: 'down', ok: false, errors: [{ message: 'boom' }], usage: undefined });
    expect(watchLine(down)).toBe('down: 2 of 2 nodes alive; ray-head running CPU 0/8, ray-w1 running CPU 2/4; 1 error');
  });

  it('a pending demand in the words of `ray status`', () => {
    expect(demandText({ kind: 'tasks', bundles: [{ resources: { memory: GiB, CPU: 1 }, count: 1 }], count: 3 })).toBe(
      '{CPU: 1, memory: 1.0 GiB}: 3+ pending tasks/actors',
    );
    expect(
      demandText({
        kind: 'placement-group',
        bundles: [
          { resources: { CPU: 1 }, count: 2 },
          { resources: { GPU: 1 }, count: 1 },
        ],
        strategy: 'STRICT_SPREAD',
        count: 2,
      }),
    ).toBe('{CPU: 1} * 2, {GPU: 1} * 1 (STRICT_SPREAD): 2+ pending placement groups');
  });
});
