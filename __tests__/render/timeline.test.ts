import { describe, expect, it } from 'vitest';
import type { NodeTimeline } from '../../src/engine/types';
import { TimelineRecorder } from '../../src/engine/steps/timeline';
import { renderSummary, renderTerminal } from '../../src/render';
import { renderTimelineText, timelineMermaid, timelineRows, timelineTable } from '../../src/render/timeline';
import { result } from './fixtures';

/** A 50-node start: every node connects, probes and starts in about 1 s; ray-w17 takes 4 s to start. */
function fiftyNodes(): NodeTimeline[] {
  return Array.from({ length: 50 }, (_, i) => {
    const node = i === 0 ? 'ray-head' : `ray-w${i}`;
    const startEnd = i === 17 ? 5000 : 1100 + (i % 5) * 20;
    return {
      node,
      spans: [
        { phase: 'connect', startMs: 0, endMs: 200 + i },
        { phase: 'preflight', startMs: 300, endMs: 450 },
        { phase: 'start', startMs: 500, endMs: startEnd },
        { phase: 'alive', startMs: startEnd, endMs: startEnd + 300 },
      ],
    };
  });
}

describe('timeline rows', () => {
  it('draws each phase with its letter, scaled to the slowest node, and marks that node', () => {
    const rows = timelineRows(fiftyNodes(), 53);
    const slow = rows.find((r) => r.node === 'ray-w17')!;
    expect(slow.slowest).toBe(true);
    expect(rows.filter((r) => r.slowest)).toHaveLength(1);
    expect(slow.totalMs).toBe(5300);
    expect(slow.longest).toBe('start 4.5 s');
    // the slow node's bar fills the width; a normal node's ends at about a quarter of it
    expect(slow.bar).toMatch(/^c+·*p+·*s{40,}a+$/);
    expect(slow.bar.length).toBe(53);
    const normal = rows.find((r) => r.node === 'ray-w3')!;
    expect(normal.bar.length).toBeLessThan(16);
    expect(normal.bar).toMatch(/^c+·*p+·*s+a+$/);
  });

  it("says how much of a node's start was Ray's own `ray start`, where the node reported it", () => {
    const nodes = fiftyNodes();
    nodes[17].rayStartMs = 4380;
    const rows = timelineRows(nodes);
    expect(rows.find((r) => r.node === 'ray-w17')!.longest).toBe('start 4.5 s (ray start 4.4 s)');
    expect(rows.find((r) => r.node === 'ray-w3')!.longest).toBe('start 660 ms');
    // another phase being the longest: the start's split is not what the column is about
    const [row] = timelineRows([
      {
        node: 'n',
        rayStartMs: 900,
        spans: [
          { phase: 'start', startMs: 0, endMs: 1000 },
          { phase: 'alive', startMs: 1000, endMs: 9000 },
        ],
      },
    ]);
    expect(row.longest).toBe('alive 8.0 s');
  });

  it('gives a phase shorter than one cell a cell of its own', () => {
    const [row] = timelineRows(
      [
        {
          node: 'n',
          spans: [
            { phase: 'connect', startMs: 0, endMs: 1000 },
            { phase: 'upload', startMs: 1000, endMs: 1001 },
            { phase: 'inspect', startMs: 1001, endMs: 2000 },
          ],
        },
      ],
      20,
    );
    expect(row.bar).toContain('u');
    expect(row.bar.startsWith('cccccccccc')).toBe(true);
  });
});

describe('terminal --timeline', () => {
  it('shows a row per node with its total, an axis and a legend; only when asked', () => {
    const r = result({ command: 'start', timeline: fiftyNodes() });
    const text = renderTimelineText(r, 40);
    const lines = text.split('\n');
    expect(lines[0].trim()).toBe('timeline');
    expect(lines[1]).toContain('|0');
    expect(lines[1]).toContain('5.3 s|');
    expect(lines).toHaveLength(2 + 50 + 1);
    expect(lines.find((l) => l.includes('ray-w17'))).toMatch(/5\.3 s {2}start 4\.5 s {2}◀ slowest$/);
    expect(lines.at(-1)).toContain("c connect · p preflight · s start · a until alive in the head's view · · waiting");
    expect(renderTerminal(r, { color: false, timeline: true })).toContain(renderTimelineText(r));
    expect(renderTerminal(r, { color: false })).not.toContain('◀ slowest');
  });

  it('says so when no node was contacted', () => {
    expect(renderTimelineText(result({ timeline: [] }))).toBe('timeline: no node was contacted');
  });
});

describe('job summary timeline', () => {
  it('has a table of text bars (spaces kept) and a Mermaid gantt chart folded below it', () => {
    const md = renderSummary(result({ command: 'start', timeline: fiftyNodes() }));
    const section = md.slice(md.indexOf('### Timeline'));
    expect(section).toContain('| node | timeline | total | longest phase |');
    expect(section).toContain('| **ray-w17** (slowest) | <code>');
    expect(section).not.toMatch(/<code>[^<]* [^<]*<\/code>/); // HTML would collapse plain spaces
    expect(section).toContain('<details><summary>Gantt chart</summary>');
    expect(section).toContain('```mermaid\ngantt\n  dateFormat x');
    expect(section).toContain(
      '  section ray-w17\n  connect : 0, 217\n  preflight : 300, 450\n  start : 500, 5000\n  alive : 5000, 5300',
    );
  });

  it('mermaid: a zero-length phase still has a bar, node names cannot break the syntax', () => {
    const chart = timelineMermaid([{ node: 'a:b#c', spans: [{ phase: 'upload', startMs: 10, endMs: 10 }] }]);
    expect(chart).toContain('  section a_b_c\n  upload : 10, 11\n```');
  });

  it('cuts long timelines to the summary limit', () => {
    const table = timelineTable(fiftyNodes(), 10);
    expect(table.split('\n').filter((l) => l.startsWith('| ray-'))).toHaveLength(10);
    expect(table).toContain('| … 40 more nodes |');
  });
});

describe('TimelineRecorder', () => {
  it('keeps spans per node from its origin, in config order; alive starts where the node last was', () => {
    const rec = new TimelineRecorder(1000);
    rec.span('w1', 'connect', 1000, 1200);
    rec.span('head', 'connect', 1000, 1100);
    rec.span('w1', 'start', 1300, 1900);
    rec.rayStart('w1', 550);
    rec.alive('w1', 2500);
    rec.rayStart('head', Number.NaN); // nothing usable reported: nothing recorded
    expect(rec.result(['head', 'w1', 'never-seen'])).toEqual([
      { node: 'head', spans: [{ phase: 'connect', startMs: 0, endMs: 100 }] },
      {
        node: 'w1',
        spans: [
          { phase: 'connect', startMs: 0, endMs: 200 },
          { phase: 'start', startMs: 300, endMs: 900 },
          { phase: 'alive', startMs: 900, endMs: 1500 },
        ],
        rayStartMs: 550,
      },
    ]);
    // a node started twice in one run (a restart after a drain): both of Ray's starts count
    rec.rayStart('w1', 450);
    expect(rec.result(['w1'])[0].rayStartMs).toBe(1000);
  });
});
