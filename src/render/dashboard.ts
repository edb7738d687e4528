// `dashboard` for the terminal: where the forwards are, how Ray Client uses them, and how they end
// (or --json: the addresses and Ray Client's environment).
import type { DashboardResult, RunError } from '../engine/types';
import { shellQuote } from '../ssh/quote';

/** Where the open forwards are. Undefined when they did not open (renderDashboardErrors says why). */
export function renderDashboardOpen(result: DashboardResult, json: boolean): string | undefined {
  const f = result.forward;
  if (!f) return undefined;
  if (json) {
    const doc = {
      'dashboard-url': f.dashboardUrl,
      'open-url': f.openUrl,
      cookie: f.cookie,
      'client-address': f.clientAddress,
      ray_version: f.rayVersion ?? null,
      client_env: f.clientEnv,
    };
    return JSON.stringify(doc) + '\n';
  }
  const env = Object.entries(f.clientEnv)
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
    .join(' ');
  return (
    [
      `Dashboard:  ${f.openUrl}`,
      `  open it once, in your browser: it lets that browser in${f.tokenFile ? ' and adds the cluster token to its requests' : ''}; other requests to ${f.dashboardUrl} are refused`,
      `Ray Client: ${f.clientAddress}`,
      `  e.g. ${env} python -c 'import ray; ray.init("${f.clientAddress}")'`,
      `Forwarded over SSH through the head${f.rayVersion ? ` (Ray ${f.rayVersion})` : ''} in ${(result.openMs / 1000).toFixed(1)}s. Ctrl-C closes them.`,
    ].join('\n') + '\n'
  );
}

/** One error of the dashboard command (the forwards did not open, or the head's connection was lost). */
export function renderDashboardError(e: RunError, withNode = true): string {
  return `nokube: ${withNode && e.node ? `${e.node}: ` : ''}${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}\n`;
}
