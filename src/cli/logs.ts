// `nokube ray logs`: the nodes' logs into a directory or one archive, and where they went.
import { formatDiagnostic } from '../config';
import { run } from '../engine';
import type { SessionOptions } from '../engine/types';
import { logsJson, renderLogsText } from '../render/logs';
import type { SecretMask } from '../render/secret-mask';
import type { CliSettings } from './args';
import type { CliIO } from './io';

export async function logsCommand(
  settings: CliSettings,
  options: SessionOptions,
  io: CliIO,
  mask: SecretMask,
): Promise<number> {
  const result = await run({
    ...options,
    command: 'logs',
    logs: { nodes: settings.nodes, sinceSec: settings.sinceSec, output: settings.output! },
  });
  for (const d of result.diagnostics) io.stderr(formatDiagnostic(d) + '\n');
  if (settings.json) io.stdout(mask.apply(JSON.stringify(logsJson(result), null, 2)) + '\n');
  else if (!result.invalid || result.errors.length) {
    const text = renderLogsText(result);
    (result.ok ? io.stdout : io.stderr)(mask.apply(text) + '\n');
  }
  return result.invalid ? 2 : result.ok ? 0 : 1;
}
