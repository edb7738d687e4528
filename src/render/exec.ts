// `exec` for the terminal: the nodes' own output went out live; this says which nodes failed (or
// --json: every node's result).
import type { RunResult } from '../engine/types';
import { errorLines, type Printed } from './printed';

export function renderExec(result: RunResult, json: boolean): Printed[] {
  if (json) return [{ stream: 'stdout', text: JSON.stringify(result.exec ?? [], null, 2) + '\n' }];
  if (!result.exec?.length || result.badInput) return [{ stream: 'stderr', text: errorLines(result.errors) }];
  return result.exec
    .filter((x) => x.exit_code !== 0)
    .map((r) => ({ stream: 'stderr', text: `${r.node}: ${r.error ?? `exit ${r.exit_code}`}\n` }));
}
