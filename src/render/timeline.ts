// A run's per-node timeline (RunResult.timeline) as a picture: bars of text, one row per node, one
// letter per phase (for the terminal and as a table that renders everywhere), and a Mermaid gantt
// chart (for the job summary). A slow node is the long row; the slowest is marked.
import type { NodePhase, NodeTimeline, RunResult } from '../engine/types';
import { escapeCell, escapeCode } from './escape';
import { formatDuration } from './model';

/** One letter per phase; the legend says which. */
export const PHASE_LETTER: Record<NodePhase, string> = {
  connect: 'c',
  preflight: 'p',
  inspect: 'i',
  upload: 'u',
  start: 's',
  alive: 'a',
  status: 't',
  stop: 'x',
};

const PHASE_WORDS: Record<NodePhase, string> = {
  connect: 'connect',
  preflight: 'preflight',
  inspect: 'inspect',
  upload: 'upload',
  start: 'start',
  alive: "until alive in the head's view",
  status: 'status',
  stop: 'stop',
};

export interface TimelineRow {
  node: string;
  /** `width` characters: a phase's letter where it ran, `·` where the node waited. */
  bar: string;
  totalMs: number;
  /** The phase that took longest on this node, with its time ("start 2.3 s (ray start 2.2 s)"). */
  longest: string;
  slowest: boolean;
}

function end(row: NodeTimeline): number {
  return row.spans.reduce((m, s) => Math.max(m, s.endMs), 0);
}

/** The rows of the text timeline, scaled so the longest node fills `width` characters. */
export function timelineRows(timeline: NodeTimeline[], width = 40): TimelineRow[] {
  const span = Math.max(1, ...timeline.map(end));
  const from = (ms: number) => Math.min(width - 1, Math.floor((ms / span) * width));
  const to = (a: number, b: number) => Math.max(from(a) + 1, Math.min(width, Math.ceil((b / span) * width)));
  const slowest = timeline.reduce<NodeTimeline | undefined>((a, r) => (!a || end(r) > end(a) ? r : a), undefined);
  return timeline.map((row) => {
    const chars = Array.from({ length: width }, () => ' ');
    if (row.spans.length) {
      const first = Math.min(...row.spans.map((s) => s.startMs));
      for (let i = from(first); i < to(first, end(row)); i++) chars[i] = '·';
    }
    // longest first, so a short phase (one cell at least) is drawn over its neighbours, never hidden
    const longestFirst = [...row.spans].sort((a, b) => b.endMs - b.startMs - (a.endMs - a.startMs));
    for (const s of longestFirst) {
      for (let i = from(s.startMs); i < to(s.startMs, s.endMs); i++) chars[i] = PHASE_LETTER[s.phase];
    }
    const byPhase = new Map<NodePhase, number>();
    for (const s of row.spans) byPhase.set(s.phase, (byPhase.get(s.phase) ?? 0) + s.endMs - s.startMs);
    const [phase, ms] = [...byPhase.entries()].reduce((a, b) => (b[1] > a[1] ? b : a), ['connect', -1]);
    return {
      node: row.node,
      bar: chars.join('').trimEnd(),
      totalMs: end(row),
      longest: ms >= 0 ? `${phase} ${formatDuration(ms)}${phase === 'start' ? rayPart(row) : ''}` : '',
      slowest: row === slowest && timeline.length > 1,
    };
  });
}

/** " (ray start 13.9 s)": how much of a node's `start` was `ray start` itself, where the node said. */
function rayPart(row: NodeTimeline): string {
  return row.rayStartMs === undefined ? '' : ` (ray start ${formatDuration(row.rayStartMs)})`;
}

/** The phases that occur, as "c connect · p preflight · ...". */
export function timelineLegend(timeline: NodeTimeline[]): string {
  const seen = new Set(timeline.flatMap((r) => r.spans.map((s) => s.phase)));
  return (Object.keys(PHASE_LETTER) as NodePhase[])
    .filter((p) => seen.has(p))
    .map((p) => `${PHASE_LETTER[p]} ${PHASE_WORDS[p]}`)
    .concat('· waiting')
    .join(' · ');
}

/** For the terminal (`--timeline`): aligned rows with a time axis. */
export function renderTimelineText(result: RunResult, width = 50): string {
  const timeline = result.timeline ?? [];
  if (!timeline.length) return 'timeline: no node was contacted';
  const rows = timelineRows(timeline, width);
  const nameWidth = Math.max(4, ...rows.map((r) => r.node.length));
  const total = Math.max(...rows.map((r) => r.totalMs));
  const axis = `${' '.repeat(nameWidth)}  |0${' '.repeat(Math.max(1, width - 2 - formatDuration(total).length))}${formatDuration(total)}|`;
  const lines = rows.map(
    (r) =>
      `${r.node.padEnd(nameWidth)}  |${r.bar.padEnd(width)}| ${formatDuration(r.totalMs).padStart(8)}  ${r.longest}${r.slowest ? '  ◀ slowest' : ''}`,
  );
  return ['timeline', axis, ...lines, `${' '.repeat(nameWidth)}   ${timelineLegend(timeline)}`]
    .map((l) => `  ${l}`)
    .join('\n');
}

/** For the job summary: a table of text bars (renders everywhere), `limit` rows at most. */
export function timelineTable(timeline: NodeTimeline[], limit = Infinity, width = 40): string {
  const rows = timelineRows(timeline, width);
  const shown = rows.slice(0, limit);
  const lines = [
    '| node | timeline | total | longest phase |',
    '| --- | --- | --- | --- |',
    ...shown.map(
      (r) =>
        `| ${r.slowest ? `**${escapeCell(r.node)}** (slowest)` : escapeCell(r.node)} | ${escapeCode(r.bar.replace(/ /g, '\u00a0'))} | ${formatDuration(r.totalMs)} | ${escapeCell(r.longest)} |`,
    ),
  ];
  if (shown.length < rows.length) lines.push(`| … ${rows.length - shown.length} more nodes | | | |`);
  return `${lines.join('\n')}\n\n${timelineLegend(timeline)}`;
}

/** Mermaid gantt: one section per node, one bar per phase (times in ms from the run's start). */
export function timelineMermaid(timeline: NodeTimeline[], limit = Infinity): string {
  const safe = (s: string) => s.replace(/[:#;\n\r`]/g, '_');
  const lines = ['```mermaid', 'gantt', '  dateFormat x', '  axisFormat %M:%S', '  todayMarker off'];
  for (const row of timeline.slice(0, limit)) {
    lines.push(`  section ${safe(row.node)}`);
    for (const s of row.spans) {
      lines.push(`  ${s.phase} : ${s.startMs}, ${Math.max(s.endMs, s.startMs + 1)}`);
    }
  }
  lines.push('```');
  return lines.join('\n');
}
