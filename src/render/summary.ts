// The job summary: every command, also on failure. Config-derived values are HTML-escaped; the whole
// document stays under GitHub's 1 MiB step-summary limit by cutting the long tables and lists.
import type { ClusterUsage, NodeTimeline, RunResult } from '../engine/types';
import { errorsFirst } from '../config/diagnostics';
import { escapeCell, escapeCode, escapeHtml, escapeText } from './escape';
import { byteLength, fitLimit, hardCut, markdownList, markdownTable } from './markdown';
import { dashboardCommandLine } from './reach';
import {
  NODE_COLUMNS,
  PLAN_COLUMNS,
  diagnosticLocation,
  extraWarnings,
  formatDuration,
  headline,
  nodeRows,
  SUPERVISION_COLUMNS,
  supervisionRows,
  planRows,
  rolloutText,
  statusLine,
  type Row,
} from './model';
import { CHECK_PAIR_COLUMNS, CHECK_PORT_COLUMNS, checkLine, checkPairRows, checkPortRows } from './check';
import { timelineMermaid, timelineTable } from './timeline';
import { demandText, usageTotalText } from './usage';

export interface SummaryContext {
  runUrl?: string;
  sha?: string;
}

/** GitHub refuses step summaries over 1 MiB; keep a margin for what other steps append. */
export const SUMMARY_MAX_BYTES = 1024 * 1024 - 4096;

export function renderSummary(result: RunResult, ctx: SummaryContext = {}, maxBytes = SUMMARY_MAX_BYTES): string {
  const longest = Math.max(
    result.nodes.length,
    result.plan?.length ?? 0,
    result.diagnostics.length,
    result.errors.length,
    result.warnings.length,
  );
  // The rows once: fitting the size cap renders the summary ~15 times for a 17,000-node config.
  const rows = { nodes: nodeRows(result), plan: planRows(result), diagnostics: diagnosticItems(result) };
  const text = fitLimit((limit) => summaryAt(result, ctx, limit, rows), byteLength, maxBytes, longest);
  return hardCut(text, byteLength, maxBytes);
}

/** Errors before warnings (the one real error is never below a page of warnings), each with its hint. */
function diagnosticItems(result: RunResult): string[] {
  return errorsFirst(result.diagnostics).map(
    (d) =>
      `${d.severity} ${escapeCode(diagnosticLocation(d))}${d.path ? ` ${escapeCode(d.path)}` : ''}: ${escapeText(d.message)}` +
      (d.hint ? `<br>hint: ${escapeText(d.hint)}` : ''),
  );
}

function summaryAt(
  result: RunResult,
  ctx: SummaryContext,
  limit: number,
  rows: { nodes: Row[]; plan: Row[]; diagnostics: string[] },
): string {
  const parts: string[] = [];
  parts.push(`## nokube ray ${result.command}: ${escapeText(result.configPath)}`);
  parts.push(`**${escapeText(capitalize(headline(result)))}**. ${escapeText(statusLine(result))}`);

  const addresses = [
    result.headAddress ? `head address ${escapeCode(result.headAddress)}` : '',
    result.clientAddress ? `client ${escapeCode(result.clientAddress)}` : '',
    result.dashboardUrl ? `dashboard ${escapeCode(result.dashboardUrl)}` : '',
  ].filter(Boolean);
  if (addresses.length) parts.push(addresses.join(' · '));
  const reach = dashboardCommandLine(result);
  if (reach)
    parts.push(
      `The dashboard needs the cluster's token and may be firewalled; open it from your machine with ${escapeCode(reach)} (an SSH forward that adds the token for you alone), then the one-time URL it prints.`,
    );

  if (result.job) parts.push(jobSection(result.job));

  if (result.errors.length) {
    const items = result.errors.map(
      (e) =>
        `${e.node ? `<b>${escapeText(e.node)}</b>${e.host ? ` (${escapeText(e.host)})` : ''}: ` : ''}${escapeText(e.message)}` +
        (e.hint ? `<br>hint: ${escapeText(e.hint)}` : ''),
    );
    parts.push(`### Errors\n\n${markdownList(items, limit, 'errors')}`);
  }

  if (rows.diagnostics.length)
    parts.push(`### Config diagnostics\n\n${markdownList(rows.diagnostics, limit, 'diagnostics')}`);

  const nodes = rows.nodes;
  // a job run looks at the head only: a table of unknown nodes would say nothing
  if (nodes.length && result.command !== 'job')
    parts.push(`### Nodes\n\n${markdownTable(NODE_COLUMNS, nodes, limit, 'nodes')}`);
  const supervised = supervisionRows(result);
  if (supervised.length && result.command !== 'job')
    parts.push(`### Supervision\n\n${markdownTable(SUPERVISION_COLUMNS, supervised, limit, 'nodes')}`);

  if (result.usage) parts.push(usageSection(result.usage));

  const plan = rows.plan;
  if (result.plan) {
    parts.push(
      `### Plan\n\n${plan.length ? markdownTable(PLAN_COLUMNS, plan, limit, 'plan items') : 'Nothing to do.'}` +
        (result.disruption && plan.length ? `\n\n**Disruption**: ${escapeHtml(result.disruption)}.` : '') +
        (result.headRestart ? `\n\n**If the head restarts**: ${escapeHtml(result.headRestart)}.` : ''),
    );
  }
  const rollout = rolloutText(result);
  if (rollout) parts.push(`### Rollout\n\n${escapeHtml(rollout)}`);
  if (result.check) {
    const ports = checkPortRows(result.check);
    parts.push(
      `### Network between the nodes\n\n${escapeText(checkLine(result.check))}.\n\n` +
        markdownTable([...CHECK_PAIR_COLUMNS], checkPairRows(result.check), limit, 'pairs') +
        (ports.length
          ? `\n\nPorts of the head's node table that did not answer:\n\n${markdownTable([...CHECK_PORT_COLUMNS], ports, limit, 'ports')}`
          : ''),
    );
  }

  const warnings = extraWarnings(result);
  if (warnings.length) parts.push(`### Warnings\n\n${markdownList(warnings.map(escapeText), limit, 'warnings')}`);

  if (result.timings.length) {
    const rows = result.timings.map((t) => [t.phase, formatDuration(t.ms)]);
    parts.push(`### Timings\n\n${markdownTable(['phase', 'time'], rows)}`);
  }

  if (result.timeline?.length) parts.push(timelineSection(result.timeline, limit));

  const footer = [
    ctx.sha ? `commit ${escapeCode(ctx.sha.slice(0, 7))}` : '',
    ctx.runUrl ? `<a href="${escapeHtml(ctx.runUrl)}">workflow run</a>` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  if (footer) parts.push(`<sub>${footer}</sub>`);
  return parts.join('\n\n') + '\n';
}

/**
 * Text bars first: they render wherever markdown does. The Mermaid gantt chart (GitHub renders
 * ```mermaid blocks in markdown) is folded below them, so a viewer without Mermaid shows its source
 * only on request. Charts beyond MERMAID_MAX_NODES rows are left out (too tall to read).
 */
function timelineSection(timeline: NodeTimeline[], limit: number): string {
  const chart =
    timeline.length <= MERMAID_MAX_NODES
      ? `\n\n<details><summary>Gantt chart</summary>\n\n${timelineMermaid(timeline, limit)}\n\n</details>`
      : '';
  return `### Timeline\n\n${timelineTable(timeline, limit)}${chart}`;
}

export const MERMAID_MAX_NODES = 100;

/** `command: job`: the job, Ray's message and the end of its log (the whole log is in the step's log). */
function jobSection(job: NonNullable<RunResult['job']>): string {
  const lines = [
    `### Job\n`,
    `| job id | status | entrypoint |`,
    `| --- | --- | --- |`,
    `| ${escapeCode(job.job_id)} | ${escapeCell(job.status)} | ${job.entrypoint ? escapeCode(job.entrypoint) : ''} |`,
  ];
  if (job.message) lines.push('', `Ray: ${escapeText(job.message.trim().split('\n')[0])}`);
  if (job.log_tail) {
    lines.push(
      '',
      `<details open><summary>last lines of the job's log</summary>\n\n<pre>${escapeHtml(job.log_tail)}</pre>\n</details>`,
    );
  }
  return lines.join('\n');
}

/** `status`: used / total over the cluster and the work waiting for resources, as `ray status` shows them. */
function usageSection(usage: ClusterUsage): string {
  const lines = [`### Resources\n`, `Used / total: ${escapeText(usageTotalText(usage))}`];
  if (usage.known) {
    const pending = usage.pending.map((d) => escapeText(demandText(d)));
    lines.push('', pending.length ? `Pending demand:\n\n${markdownList(pending)}` : 'Pending demand: none');
  }
  return lines.join('\n');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
