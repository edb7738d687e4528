// `nokube ray dashboard`: opens the forwards, says where they are, and holds them until Ctrl-C.
import { formatDiagnostic } from '../config';
import { openDashboard } from '../engine/dashboard';
import type { SessionOptions } from '../engine/steps/session';
import type { SecretMask } from '../render/secret-mask';
import { shellQuote } from '../ssh/quote';
import type { CliSettings } from './args';
import type { CliIO } from './main';

export async function dashboardCommand(
  settings: CliSettings,
  options: SessionOptions,
  io: CliIO,
  mask: SecretMask,
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
          `Forwarded over SSH through the head${f.rayVersion ? ` (Ray ${f.rayVersion})` : ''} in ${(result.openMs / 1000).toFixed(1)}s. Ctrl-C closes them.`,
        ].join('\n'),
      ) + '\n',
    );
  }
  const outcome = await new Promise<number>((resolve) => {
    const onSignal = () => resolve(0);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    void f.ended.then((e) => {
      io.stderr(mask.apply(`nokube: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`) + '\n');
      resolve(1);
    });
  });
  await f.close();
  if (outcome === 0) io.stderr('nokube: forwards closed\n');
  return outcome;
}
