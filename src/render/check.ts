// `check`'s result as rows (pure): each pair of nodes and how its object moved, and the ports of the
// head's node table that did not answer. The summary and the terminal lay the same rows out.
import type { ClusterCheck } from '../engine/types';
import { formatBytes } from '../words/bytes';
import { formatDuration, type Row } from './model';

export const CHECK_PAIR_COLUMNS = ['object on', 'fetched by', 'result', 'time', 'error'] as const;
export const CHECK_PORT_COLUMNS = ['from', 'to', 'port', 'for', 'result', 'time'] as const;

/** Failed pairs first, then the slowest: the rows a reader needs come before a long table is cut. */
export function checkPairRows(check: ClusterCheck): Row[] {
  return [...check.pairs]
    .sort((a, b) => Number(a.ok) - Number(b.ok) || b.ms - a.ms)
    .map((p) => [p.from, p.to, p.ok ? 'ok' : 'failed', formatDuration(p.ms), p.error ?? '']);
}

/** Only the ports that did not answer (every other one did). */
export function checkPortRows(check: ClusterCheck): Row[] {
  return check.ports
    .filter((p) => p.result !== 'ok')
    .map((p) => [
      p.from,
      p.to,
      `${p.address}:${p.port}`,
      p.what,
      p.error ? `${p.result}: ${p.error}` : p.result,
      formatDuration(p.ms),
    ]);
}

export function checkLine(check: ClusterCheck): string {
  const moved = check.pairs.filter((p) => p.ok).length;
  const answered = check.ports.filter((p) => p.result === 'ok').length;
  const slowest = Math.max(0, ...check.pairs.map((p) => p.ms));
  return (
    `${moved} of ${check.pairs.length} pairs of nodes moved an object of ${formatBytes(check.objectBytes)} (the slowest in ${formatDuration(slowest)}); ` +
    `${answered} of ${check.ports.length} node manager and object manager ports answered` +
    (check.missing.length ? `; not tested (not alive in the head's node table): ${check.missing.join(', ')}` : '')
  );
}
