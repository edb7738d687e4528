// A `logs` run for the terminal and for machines (--json): where the logs went, what each node gave,
// what was cut, and Ray's error lines.
import type { LogsResult } from '../engine/types';
import { escapeCode, escapeHtml, escapeText } from './escape';
import { formatBytes } from './model';
import { textTable } from './terminal';

export function renderLogsText(result: LogsResult): string {
  const lines: string[] = [];
  const got = result.nodes.filter((n) => n.ok).length;
  if (result.output && got)
    lines.push(
      `Logs of ${got} of ${result.nodes.length} node${result.nodes.length === 1 ? '' : 's'} of cluster ${result.clusterName} in ${result.output}`,
    );
  const rows = result.nodes.map((n) => [
    n.name,
    n.ok ? 'collected' : 'failed',
    n.ok ? String(n.files.length) : '',
    n.ok ? formatBytes(n.bytes) : '',
    n.ok ? (n.session ?? '(Ray never ran here)') : (n.error?.message ?? ''),
    n.cut.length || n.omitted.length ? `${n.cut.length} cut, ${n.omitted.length} left out` : '',
  ]);
  if (rows.length) lines.push('', ...textTable(['node', 'logs', 'files', 'size', 'session', 'bounded'], rows));
  const keys = result.nodes.flatMap((n) => n.keyLines.map((k) => `${n.name}: ${k}`));
  if (keys.length) lines.push('', "Ray's errors:", ...keys.map((k) => `  ${k}`));
  if (result.errors.length) {
    lines.push('');
    for (const e of result.errors)
      lines.push(`error: ${e.node ? `${e.node}: ` : ''}${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`);
  }
  return lines.join('\n').replace(/^\n+/, '');
}

export function logsJson(result: LogsResult): Record<string, unknown> {
  return {
    ok: result.ok,
    logs: result.output ?? null,
    archive: result.archive,
    nodes: result.nodes.map((n) => ({
      node: n.name,
      role: n.role,
      host: n.host,
      ok: n.ok,
      files: n.files,
      bytes: n.bytes,
      session: n.session ?? null,
      cut: n.cut,
      omitted: n.omitted,
      key_lines: n.keyLines,
    })),
    timings: result.timings,
    ...(result.errors.length
      ? { errors: result.errors.map((e) => ({ node: e.node ?? null, message: e.message, hint: e.hint ?? null })) }
      : {}),
  };
}

/** For the job summary after a failed start: where the bundle is and Ray's error lines, by node. */
export function renderLogsMarkdown(result: LogsResult, maxLines = 60): string {
  const parts = ["### Ray's logs"];
  const got = result.nodes.filter((n) => n.ok);
  if (result.output && got.length) {
    parts.push(
      `Collected from ${got.map((n) => escapeText(n.name)).join(', ')} into ${escapeCode(result.output)} (output \`logs\`: upload it with \`actions/upload-artifact\`).`,
    );
  }
  const failed = result.nodes.filter((n) => !n.ok);
  if (failed.length)
    parts.push(
      `Not collected: ${failed.map((n) => `${escapeText(n.name)} (${escapeText(n.error?.message ?? 'failed')})`).join('; ')}.`,
    );
  const lines = result.nodes.flatMap((n) => n.keyLines.map((k) => `${n.name}: ${k}`));
  if (lines.length) {
    const shown = lines.slice(0, maxLines);
    const more = lines.length > shown.length ? `\n… and ${lines.length - shown.length} more in the bundle` : '';
    parts.push(`<pre>${escapeHtml(shown.join('\n') + more)}</pre>`);
  } else if (got.length) parts.push("No error lines in Ray's logs.");
  return parts.join('\n\n') + '\n';
}
