// `nokube ray dashboard`: opens the forwards, says where they are, and holds them until Ctrl-C.
import { formatDiagnostic } from '../config';
import { run } from '../engine';
import type { SessionOptions } from '../engine/types';
import { renderDashboardError, renderDashboardOpen } from '../render/dashboard';
import type { SecretMask } from '../render/secret-mask';
import type { CliSettings } from './args';
import type { CliIO } from './io';

export async function dashboardCommand(
  settings: CliSettings,
  options: SessionOptions,
  io: CliIO,
  mask: SecretMask,
): Promise<number> {
  const result = await run({
    ...options,
    command: 'dashboard',
    dashboard: { port: settings.port, clientPort: settings.clientPort },
  });
  for (const d of result.diagnostics) io.stderr(formatDiagnostic(d) + '\n');
  const opened = renderDashboardOpen(result, settings.json);
  if (!result.forward || opened === undefined) {
    for (const e of result.errors) io.stderr(mask.apply(renderDashboardError(e)));
    return result.invalid ? 2 : 1;
  }
  const f = result.forward;
  io.stdout(mask.apply(opened));
  const outcome = await new Promise<number>((resolve) => {
    const onSignal = () => resolve(0);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    void f.ended.then((e) => {
      io.stderr(mask.apply(renderDashboardError(e, false)));
      resolve(1);
    });
  });
  await f.close();
  if (outcome === 0) io.stderr('nokube: forwards closed\n');
  return outcome;
}
