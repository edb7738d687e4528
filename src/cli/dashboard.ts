// `nokube ray dashboard`: opens the forwards, says where they are, and holds them until Ctrl-C.
import { formatDiagnostic } from '../config';
import { openDashboard, type DashboardForward } from '../engine/dashboard';
import type { SessionOptions } from '../engine/session';
import type { SecretMask } from '../render/secret-mask';
import { shellQuote } from '../ssh/quote';
import type { CliSettings } from './args';
import type { CliIO } from './main';

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
  const result = await openDashboard(options, { port: settings.port, clientPort: settings.clientPort });
  for (const d of result.diagnostics) io.stderr(formatDiagnostic(d) + '\n');
  if (!result.forward) {
    for (const e of result.errors)
      io.stderr(
        mask.apply(`nokube: ${e.node ? `${e.node}: ` : ''}${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`) + '\n',
      );
    return result.invalid ? 2 : 1;
  }
  const f = result.forward;
  // Any other end of the process (an error, process.exit) still removes the token file; only
  // SIGKILL cannot be caught.
  const onExit = () => f.removeTokenFile();
  process.on('exit', onExit);
  try {
    return await printAndHold(f, result.openMs, settings, io, mask, onStop);
  } finally {
    await f.close();
    process.off('exit', onExit);
  }
}

async function printAndHold(
  f: DashboardForward,
  openMs: number,
  settings: CliSettings,
  io: CliIO,
  mask: SecretMask,
  onStop: (resolve: () => void) => void,
): Promise<number> {
  const env = Object.entries(f.clientEnv)
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
    .join(' ');
  if (settings.json) {
    const doc = {
      'dashboard-url': f.dashboardUrl,
      'client-address': f.clientAddress,
      ray_version: f.rayVersion ?? null,
      client_env: f.clientEnv,
    };
    io.stdout(mask.apply(JSON.stringify(doc)) + '\n');
  } else {
    io.stdout(
      mask.apply(
        [
          `Dashboard:  ${f.dashboardUrl}${f.tokenFile ? '   (the cluster token is added for you)' : ''}`,
          `Ray Client: ${f.clientAddress}`,
          `  e.g. ${env} python -c 'import ray; ray.init("${f.clientAddress}")'`,
          `Forwarded over SSH through the head${f.rayVersion ? ` (Ray ${f.rayVersion})` : ''} in ${(openMs / 1000).toFixed(1)}s. Ctrl-C closes them.`,
        ].join('\n'),
      ) + '\n',
    );
  }
  const outcome = await new Promise<number>((resolve) => {
    onStop(() => resolve(0));
    void f.ended.then((e) => {
      io.stderr(mask.apply(`nokube: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`) + '\n');
      resolve(1);
    });
  });
  if (outcome === 0) io.stderr('nokube: forwards closed\n');
  return outcome;
}
