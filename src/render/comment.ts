// The sticky plan comment on a pull request (SPEC §4): one per config path, found again by its hidden
// marker. The summary (verdict, counts, per-node plan, warnings) comes first; when the comment would
// pass GitHub's 65,536-character limit the collapsed details are cut first, then the table.
import type { RunResult } from '../engine/types';
import { errorsFirst } from '../config/diagnostics';
import { escapeCode, escapeComment, escapeHtml, escapeText } from './escape';
import { fitLimit, hardCut, markdownList, markdownTable } from './markdown';
import {
  countsText,
  diagnosticLocation,
  driftText,
  errorDiagnostics,
  extraWarnings,
  planCounts,
  unpinnedHostKeys,
} from './model';

export interface PlanCommentContext {
  configPath: string;
  sha?: string;
  runUrl?: string;
  /** The hidden first line; planCommentMarker(configPath) unless a caller needs another. */
  marker?: string;
}

/** GitHub's limit is 65,536 characters; stay a little under it. */
export const COMMENT_MAX_CHARS = 65_000;

export function planCommentMarker(configPath: string): string {
  return `<!-- nokube-ray-deploy:plan:${escapeComment(configPath)} -->`;
}

export function renderPlanComment(result: RunResult, ctx: PlanCommentContext, maxChars = COMMENT_MAX_CHARS): string {
  const marker = ctx.marker ?? planCommentMarker(ctx.configPath);
  const measure = (s: string) => s.length;
  const plan = result.plan ?? [];
  const detailsMax = result.diagnostics.length + plan.length;
  const tableMax = Math.max(plan.length, errorDiagnostics(result).length);

  const footer = commentFooter(ctx);
  const budget = maxChars - footer.length - 2;
  // Details first: with the full summary, the most details that fit; then, with no details, the most rows.
  const withDetails = (limit: number) =>
    [marker, summaryPart(result, ctx, Infinity), detailsPart(result, limit)].filter(Boolean).join('\n\n');
  let body = withDetails(Infinity);
  if (measure(body) > budget) {
    body = fitLimit(withDetails, measure, budget, detailsMax);
    if (measure(body) > budget) {
      const summaryOnly = (limit: number) => [marker, summaryPart(result, ctx, limit), detailsOmitted()].join('\n\n');
      body = fitLimit(summaryOnly, measure, budget, tableMax);
    }
  }
  // The marker is the first line whatever happens: it is how the next run finds this comment.
  return hardCut(`${body}\n\n${footer}`, measure, maxChars);
}

function summaryPart(result: RunResult, ctx: PlanCommentContext, limit: number): string {
  const parts: string[] = [];
  parts.push(`### Ray cluster plan for ${escapeCode(ctx.configPath)}`);
  const errors = errorDiagnostics(result);
  const warningCount = result.diagnostics.length - errors.length;
  if (errors.length) {
    parts.push(
      `**Config is invalid**: ${errors.length} error${errors.length === 1 ? '' : 's'}. Nothing can be planned until they are fixed.`,
    );
    const items = errors.map(
      (d) =>
        `${escapeCode(diagnosticLocation(d))}${d.path ? ` ${escapeCode(d.path)}` : ''}: ${escapeText(d.message)}` +
        (d.hint ? `<br>hint: ${escapeText(d.hint)}` : ''),
    );
    parts.push(markdownList(items, limit, 'errors'));
  } else {
    const verdict = `**Config is valid**${warningCount ? ` (${warningCount} warning${warningCount === 1 ? '' : 's'})` : ''}.`;
    const counts = planCounts(result.plan);
    parts.push(`${verdict} ${result.plan ? `Plan: ${countsText(counts)}.` : 'No plan was made.'}`);
    if (result.disruption) parts.push(`**Disruption**: ${escapeHtml(result.disruption)}.`);
    if (result.headRestart) parts.push(`**If the head restarts**: ${escapeHtml(result.headRestart)}.`);
    if (result.plan?.length) {
      const rows = [...result.plan].map((p) => [
        p.node,
        p.role,
        p.host,
        p.action,
        p.disruption ?? '',
        driftText(p.drift, 3),
        p.reason,
      ]);
      parts.push(
        markdownTable(['node', 'role', 'host', 'action', 'disruption', 'changes', 'reason'], rows, limit, 'nodes'),
      );
    }
  }
  if (result.errors.length) {
    const items = result.errors.map(
      (e) =>
        `${e.node ? `<b>${escapeText(e.node)}</b>: ` : ''}${escapeText(e.message)}${e.hint ? `<br>hint: ${escapeText(e.hint)}` : ''}`,
    );
    parts.push(`**Errors**\n\n${markdownList(items, limit, 'errors')}`);
  }
  const warnings = commentWarnings(result);
  if (warnings.length) parts.push(`**Warnings**\n\n${markdownList(warnings, limit, 'warnings')}`);
  return parts.join('\n\n');
}

/** Plaintext passwords and other config warnings, unpinned host keys, and the engine's own warnings. */
function commentWarnings(result: RunResult): string[] {
  const items = result.diagnostics
    .filter((d) => d.severity === 'warning')
    .map(
      (d) =>
        `${escapeCode(diagnosticLocation(d))}${d.path ? ` ${escapeCode(d.path)}` : ''}: ${escapeText(d.message)}${d.hint ? ` (${escapeText(d.hint)})` : ''}`,
    );
  const unpinned = unpinnedHostKeys(result);
  if (unpinned.length) {
    const names =
      unpinned.slice(0, 20).map(escapeText).join(', ') +
      (unpinned.length > 20 ? ` and ${unpinned.length - 20} more` : '');
    items.push(
      `host key not pinned for ${unpinned.length} node${unpinned.length === 1 ? '' : 's'} (${names}): the deploy needs them in the <code>known-hosts</code> input or a <code>host_key</code> in the config, or it fails closed`,
    );
  }
  items.push(...extraWarnings(result).map(escapeText));
  return items;
}

function detailsPart(result: RunResult, limit: number): string {
  const sections: string[] = [];
  if (result.diagnostics.length) {
    const items = errorsFirst(result.diagnostics).map(
      (d) =>
        `${d.severity} ${escapeCode(diagnosticLocation(d))}${d.path ? ` ${escapeCode(d.path)}` : ''}: ${escapeText(d.message)}${d.hint ? `<br>hint: ${escapeText(d.hint)}` : ''}`,
    );
    sections.push(`**Diagnostics**\n\n${markdownList(items, limit, 'diagnostics')}`);
  }
  const drifted = (result.plan ?? []).filter((p) => p.drift.length > 0);
  if (drifted.length) {
    const rows = drifted.flatMap((p) => p.drift.map((d) => [p.node, d.field, d.from || '(none)', d.to || '(none)']));
    sections.push(`**Full drift**\n\n${markdownTable(['node', 'field', 'from', 'to'], rows, limit, 'drift rows')}`);
  }
  return sections.length ? wrapDetails(sections) : '';
}

function wrapDetails(sections: string[]): string {
  return `<details><summary>Details: diagnostics and full drift</summary>\n\n${sections.join('\n\n')}\n\n</details>`;
}

function detailsOmitted(): string {
  return '<i>Details (diagnostics, full drift) are too long for a comment: see the job summary.</i>';
}

function commentFooter(ctx: PlanCommentContext): string {
  const bits = [
    ctx.sha ? `commit ${escapeCode(ctx.sha.slice(0, 7))}` : '',
    ctx.runUrl ? `<a href="${escapeHtml(ctx.runUrl)}">workflow run</a>` : '',
  ].filter(Boolean);
  return `<sub>Planned by nokube/ray-deploy${bits.length ? ` · ${bits.join(' · ')}` : ''}</sub>`;
}
