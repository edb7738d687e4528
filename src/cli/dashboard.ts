// `nokube ray dashboard`: opens the forwards, says where they are, and holds them until Ctrl-C.
import { formatDiagnostic } from '../config';
import { run } from '../engine';
import type { SessionOptions } from '../engine/types';
import { renderDashboardError, renderDashboardOpen } from '../render/dashboard';
import type { SecretMask } from '../render/secret-mask';
import type { CliSettings } from './args';
import type { CliIO } from './io';

/** What ends `dashboard` and closes its forwards: Ctrl-C, a supervisor, a closed terminal or ssh session. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export async function dashboardCommand(
  settings: CliSettings,
  options: SessionOptions,
  io: CliIO,
  mask: SecretMask,
): Promise<number> {
  // Taken from the start: a signal while the forwards open still closes them and removes the token file.
  let stopped = false;
  let stop = () => {
    stopped = true;
  };
  const onSignal = () => stop();
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  try {
    return await holdForwards(settings, options, io, mask, (resolve) => {
      stop = resolve;
      if (stopped) resolve();
    });
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  }
}

async function holdForwards(
  settings: CliSettings,
  options: SessionOptions,
  io: CliIO,
  mask: SecretMask,
  onStop: (resolve: () => void) => void,
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
  // Any other end of the process (an error, process.exit) still removes the token file; only
  // SIGKILL cannot be caught.
  const onExit = () => f.removeTokenFile();
  process.on('exit', onExit);
  try {
    io.stdout(mask.apply(opened));
    const outcome = await new Promise<number>((resolve) => {
      onStop(() => resolve(0));
      void f.ended.then((e) => {
        io.stderr(mask.apply(renderDashboardError(e, false)));
        resolve(1);
      });
    });
    if (outcome === 0) io.stderr('nokube: forwards closed\n');
    return outcome;
  } finally {
    await f.close();
    process.off('exit', onExit);
  }
}
