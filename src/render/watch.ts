// `status --watch`: the words around each refresh. A terminal gets the whole status redrawn under a
// header; anything else gets one line per change (the CLI holds the loop and the terminal control).
import type { RunResult } from '../engine/types';
import { amount, pendingText, usageTotalText } from './usage';

/** `every 2 s · 21:30:01 UTC · Ctrl-C to stop`, above a redrawn status. */
export function watchHeader(everySec: number, at: Date): string {
  return `every ${everySec} s · ${at.toISOString().slice(11, 19)} UTC · Ctrl-C to stop`;
}

/**
 * `status --watch` when stdout is not a terminal: what the cluster is doing in one line, printed
 * when it changes (the caller compares these and prefixes the time).
 */
export function watchLine(result: RunResult): string {
  const nodes = result.nodes.map(
    (n) =>
      `${n.name} ${n.state}${n.usage?.CPU ? ` CPU ${amount('CPU', n.usage.CPU.used)}/${amount('CPU', n.usage.CPU.total)}` : ''}`,
  );
  const parts = [`${result.status}: ${result.aliveNodes} of ${result.expectedNodes} nodes alive`];
  if (result.usage) parts.push(`used ${usageTotalText(result.usage)}`, `pending ${pendingText(result.usage)}`);
  parts.push(nodes.join(', '));
  if (!result.ok) parts.push(`${result.errors.length} error${result.errors.length === 1 ? '' : 's'}`);
  return parts.join('; ');
}

/** A printed change: the time, then the line. */
export function watchLineAt(line: string, at: Date): string {
  return `${at.toISOString().replace(/\.\d+Z$/, 'Z')} ${line}`;
}
