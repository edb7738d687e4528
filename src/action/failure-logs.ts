// After a failed `start`: every reachable node's logs into one archive under RUNNER_TEMP, Ray's error
// lines into the job summary, and the archive's path as the `logs` output (for actions/upload-artifact).
import { join } from 'node:path';
import * as core from '@actions/core';
import { run } from '../engine';
import type { RunOptions, RunResult } from '../engine/types';
import { renderLogsMarkdown } from '../render/logs';
import type { SecretRegistry } from './secrets';

/** A start that failed on a valid config: its nodes' logs say why. */
export function wantsFailureLogs(result: RunResult): boolean {
  return result.command === 'start' && !!result.config && (!result.ok || result.status !== 'healthy');
}

export async function collectFailureLogs(
  options: RunOptions,
  result: RunResult,
  env: Record<string, string | undefined>,
  workspace: string,
  secrets: SecretRegistry,
): Promise<void> {
  const dir = env.RUNNER_TEMP || workspace;
  const runId = [env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT].filter(Boolean).join('-') || String(Date.now());
  const output = join(dir, `nokube-logs-${result.clusterName ?? 'cluster'}-${runId}.tar.gz`);
  core.startGroup("Collecting the nodes' logs after the failed start");
  let logs;
  try {
    logs = await run({ ...options, command: 'logs', logs: { nodes: [], output } });
  } catch (err) {
    core.warning(secrets.mask(`the nodes' logs could not be collected: ${(err as Error).message}`));
    return;
  } finally {
    core.endGroup();
  }
  for (const n of logs.nodes) for (const line of n.keyLines) core.info(secrets.mask(`${n.name}: ${line}`));
  if (logs.output && logs.nodes.some((n) => n.ok)) {
    core.setOutput('logs', logs.output);
    core.info(`Logs of the nodes: ${logs.output} (output "logs")`);
  } else {
    core.warning(secrets.mask(`no node's logs could be collected: ${logs.errors[0]?.message ?? 'unknown error'}`));
  }
  if (!env.GITHUB_STEP_SUMMARY) return;
  try {
    await core.summary.addRaw(secrets.mask(renderLogsMarkdown(logs)), true).write();
  } catch (err) {
    core.warning(`the job summary could not be written: ${(err as Error).message}`);
  }
}
