// A plan as plain text, Terraform-style: one line per node, changes indented beneath.
import type { RunResult } from '../engine/types';
import { countsText, planCounts } from './model';

const SIGN = { start: '+', restart: '~', stop: '-', keep: ' ' } as const;

export function renderPlanText(result: RunResult): string {
  const plan = result.plan ?? [];
  const lines = plan.map((p) => {
    const disruption = p.disruption && p.disruption !== p.action ? ` [${p.disruption}]` : '';
    const head = `${SIGN[p.action]} ${p.node} (${p.role}, ${p.host}): ${p.action}${p.reason ? `, ${p.reason}` : ''}${disruption}`;
    return [head, ...p.drift.map((d) => `    ${d.field}: ${d.from || '(none)'} -> ${d.to || '(none)'}`)].join('\n');
  });
  const impact = result.disruption ? [`Disruption: ${result.disruption}.`] : [];
  if (result.headRestart) impact.push(`If the head restarts: ${result.headRestart}.`);
  return [...lines, `Plan: ${countsText(planCounts(plan))}.`, ...impact].join('\n');
}
