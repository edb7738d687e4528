// `nokube ray firewall`: the config's firewall rules on the terminal. Reads only the config (no SSH,
// no secrets needed: an unset ${NAME} is a warning, as for an offline plan).
import { isIP } from 'node:net';
import { errorsFirst, formatDiagnostic, loadConfig } from '../config';
import { firewallPlan } from '../engine';
import { renderFirewall } from '../render/firewall';
import type { CliSettings } from './args';
import type { CliIO } from './io';

export function firewallCommand(settings: CliSettings, io: CliIO): number {
  if (settings.deployer !== undefined && !isAddressOrNetwork(settings.deployer)) {
    io.stderr(
      `nokube: --deployer must be an IPv4 or IPv6 address, optionally with a /prefix (203.0.113.7, 203.0.113.0/24), got "${settings.deployer}"\n`,
    );
    return 2;
  }
  const parsed = loadConfig(settings.config, { defaultUser: settings.user, env: io.env, allowMissingEnv: true });
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  for (const d of errorsFirst(parsed.diagnostics)) io.stderr(formatDiagnostic(d) + '\n');
  if (!parsed.config || errors.length) return 2;
  const plan = firewallPlan(parsed.config, settings.deployer);
  const unknown = settings.nodes.filter((n) => !plan.nodes.some((p) => p.node === n));
  if (unknown.length) {
    io.stderr(
      `nokube: no node named ${unknown.join(', ')} in ${settings.config} (nodes: ${plan.nodes.map((n) => n.node).join(', ')})\n`,
    );
    return 2;
  }
  if (settings.nodes.length) plan.nodes = plan.nodes.filter((n) => settings.nodes.includes(n.node));
  io.stdout(settings.json ? JSON.stringify(plan, null, 2) + '\n' : renderFirewall(plan, settings.firewallFormat));
  return 0;
}

function isAddressOrNetwork(text: string): boolean {
  const [address, prefix, more] = text.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || more !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}
