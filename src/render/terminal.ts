// The CLI's view of a RunResult: the same columns as the job summary, as aligned plain-text tables.
import type { ClusterStatus, NodeState, PlanAction, RunResult } from '../engine/types';
import { stripAnsi } from './escape';
import { dashboardReach } from './reach';
import {
  NODE_COLUMNS,
  PLAN_COLUMNS,
  extraWarnings,
  headline,
  formatDuration,
  nodeRows,
  SUPERVISION_COLUMNS,
  supervisionRows,
  planRows,
  rolloutText,
  statusLine,
  type Row,
} from './model';
import { CHECK_PAIR_COLUMNS, CHECK_PORT_COLUMNS, checkLine, checkPairRows, checkPortRows } from './check';
import { renderTimelineText } from './timeline';
import { usageTerminalLines } from './usage';

export interface TerminalOptions {
  color: boolean;
  /** Also draw the per-node timeline (`--timeline`). */
  timeline?: boolean;
}

const CODES = { red: 31, green: 32, yellow: 33, bold: 1, dim: 2 } as const;
type Paint = (text: string, code: keyof typeof CODES) => string;

const STATE_COLOR: Partial<Record<NodeState | ClusterStatus | PlanAction, keyof typeof CODES>> = {
  running: 'green',
  healthy: 'green',
  keep: 'green',
  stopped: 'dim',
  drifted: 'yellow',
  degraded: 'yellow',
  restart: 'yellow',
  start: 'yellow',
  stop: 'yellow',
  missing: 'red',
  unreachable: 'red',
  failed: 'red',
  down: 'red',
};

export function renderTerminal(result: RunResult, options: TerminalOptions): string {
  const paint: Paint = options.color ? (text, code) => `\x1b[${CODES[code]}m${text}\x1b[0m` : (text) => text;
  const colorOf = (value: string) => STATE_COLOR[value as NodeState];
  const out: string[] = [];

  const status = headline(result);
  out.push(
    `${paint(result.command === 'validate' || result.command === 'plan' ? 'result:' : 'status:', 'bold')} ${colorOf(result.status) ? paint(status, colorOf(result.status)!) : status}  ${oneLine(statusLine(result))}`,
  );
  if (result.headAddress) out.push(`head address:   ${result.headAddress}`);
  if (result.clientAddress) out.push(`client address: ${result.clientAddress}`);
  if (result.dashboardUrl) out.push(`dashboard:      ${result.dashboardUrl}`);
  const reach = dashboardReach(result);
  if (reach) out.push(`                ${reach}`);

  const nodes = nodeRows(result).map((r) => r.map(oneLine));
  if (nodes.length) {
    out.push('', paint('nodes', 'bold'));
    out.push(
      ...textTable([...NODE_COLUMNS], nodes, (row, i, cell) =>
        i === 3 && colorOf(row[3]) ? paint(cell, colorOf(row[3])!) : cell,
      ),
    );
  }
  out.push(...usageTerminalLines(result, (t) => paint(t, 'bold')).map(oneLine));
  const supervised = supervisionRows(result).map((r) => r.map(oneLine));
  if (supervised.length) {
    out.push('', paint('supervision', 'bold'));
    out.push(...textTable([...SUPERVISION_COLUMNS], supervised));
  }
  if (result.plan) {
    out.push('', paint('plan', 'bold'));
    const plan = planRows(result).map((r) => r.map(oneLine));
    if (plan.length === 0) out.push('nothing to do');
    else
      out.push(
        ...textTable([...PLAN_COLUMNS], plan, (row, i, cell) =>
          i === 1 && colorOf(row[1]) ? paint(cell, colorOf(row[1])!) : cell,
        ),
      );
    if (result.disruption && plan.length) out.push(`disruption: ${oneLine(result.disruption)}`);
    if (result.headRestart) out.push(`if the head restarts: ${oneLine(result.headRestart)}`);
  }
  const rollout = rolloutText(result);
  if (rollout) out.push('', `${paint('rollout', 'bold')} ${rollout}`);
  if (result.check) {
    out.push('', `${paint('network', 'bold')} ${checkLine(result.check)}`);
    const pairs = checkPairRows(result.check).map((r) => r.map(oneLine));
    if (pairs.length)
      out.push(
        ...textTable([...CHECK_PAIR_COLUMNS], pairs, (row, i, cell) =>
          i === 2 ? paint(cell, row[2] === 'ok' ? 'green' : 'red') : cell,
        ),
      );
    const ports = checkPortRows(result.check).map((r) => r.map(oneLine));
    if (ports.length)
      out.push('', paint('ports that did not answer', 'bold'), ...textTable([...CHECK_PORT_COLUMNS], ports));
  }
  if (result.errors.length) {
    out.push('', paint('errors', 'bold'));
    for (const e of result.errors) {
      out.push(`  ${paint('error', 'red')}: ${e.node ? `${e.node}: ` : ''}${oneLine(e.message)}`);
      if (e.hint) out.push(`         hint: ${oneLine(e.hint)}`);
    }
  }
  const warnings = extraWarnings(result);
  if (warnings.length) {
    out.push('', paint('warnings', 'bold'));
    for (const w of warnings) out.push(`  ${paint('warning', 'yellow')}: ${oneLine(w)}`);
  }
  const timings = result.timings.filter((t) => t.phase !== 'total');
  const total = result.timings.find((t) => t.phase === 'total');
  if (result.timings.length) {
    out.push(
      '',
      `${paint('timings', 'bold')}: ${[...timings, ...(total ? [total] : [])].map((t) => `${t.phase} ${formatDuration(t.ms)}`).join(', ')}`,
    );
  }
  if (options.timeline) out.push('', renderTimelineText(result));
  return out.join('\n');
}

/** Aligned columns; `decorate` may colour a cell after its width was measured on the plain text. */
export function textTable(
  columns: string[],
  rows: Row[],
  decorate: (row: Row, col: number, padded: string) => string = (_r, _c, s) => s,
): string[] {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => stripAnsi(r[i] ?? '').length)));
  // The last column is not padded: no trailing spaces; empty trailing columns are dropped.
  const line = (cells: string[], deco: (i: number, s: string) => string) =>
    cells
      .map((cell, i) => deco(i, i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    line(
      columns.map((c) => c.toUpperCase()),
      (_i, s) => s,
    ),
    ...rows.map((r) => line(r, (i, s) => decorate(r, i, s))),
  ].map((l) => `  ${l}`);
}

function oneLine(text: string): string {
  return text.replace(/\s*\r?\n\s*/g, ' ');
}
