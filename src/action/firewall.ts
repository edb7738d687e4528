// `command: firewall`: the config's firewall rules in the job summary (a table per node, and the
// commands for ufw, firewalld, nftables and iptables) and the `firewall` output (the rules as JSON). Reads
// only the config: no SSH, no secrets needed.
import { resolve } from 'node:path';
import * as core from '@actions/core';
import { errorsFirst, formatDiagnostic, loadConfig } from '../config';
import { firewallPlan } from '../engine';
import { renderFirewall, renderFirewallMarkdown } from '../render/firewall';
import type { ActionInputs } from './inputs';
import type { RunContext } from './publish';
import type { SecretRegistry } from './secrets';

export async function firewallStep(inputs: ActionInputs, ctx: RunContext, secrets: SecretRegistry): Promise<void> {
  const parsed = loadConfig(resolve(ctx.workspace, inputs.config), {
    defaultUser: inputs.sshUser,
    env: ctx.env,
    allowMissingEnv: true,
  });
  for (const d of errorsFirst(parsed.diagnostics)) {
    const line = secrets.mask(formatDiagnostic(d));
    if (d.severity === 'error') core.error(line);
    else core.warning(line);
  }
  if (!parsed.config || parsed.diagnostics.some((d) => d.severity === 'error')) {
    core.setFailed(`${inputs.config} is invalid: no firewall rules (see the annotations)`);
    return;
  }
  const plan = firewallPlan(parsed.config);
  core.info(secrets.mask(renderFirewall(plan, 'table')));
  // the rules for a later step (one that applies them, or a check of the hosts' own firewall)
  core.setOutput('firewall', secrets.mask(JSON.stringify(plan)));
  if (!ctx.env.GITHUB_STEP_SUMMARY) return;
  try {
    await core.summary.addRaw(secrets.mask(renderFirewallMarkdown(plan)), true).write();
  } catch (err) {
    core.warning(`the job summary could not be written: ${(err as Error).message}`);
  }
}
