// What a run leaves in the workflow besides its log: annotations on the config's lines, the step's
// outputs and the job summary, every secret masked.
import { relative, resolve, sep } from 'node:path';
import * as core from '@actions/core';
import type { Command, RunResult } from '../engine/types';
import { renderSummary } from '../render';
import { runOutputs } from '../render/outputs';
import type { SecretRegistry } from './secrets';

/** Where the run happens, from the runner's environment. */
export interface RunContext {
  env: Record<string, string | undefined>;
  workspace: string;
  sha?: string;
  runUrl?: string;
}

/** Config diagnostics as annotations on the exact YAML lines; node errors as plain error annotations. */
export function annotate(result: RunResult, ctx: RunContext, secrets: SecretRegistry): void {
  for (const d of result.diagnostics) {
    const file = toPosix(relative(ctx.workspace, resolve(d.file)));
    const message = secrets.mask(`${d.path ? `${d.path}: ` : ''}${d.message}${d.hint ? ` (${d.hint})` : ''}`);
    const props = {
      file,
      startLine: d.line,
      startColumn: d.col,
      title: d.severity === 'error' ? 'invalid Ray config' : 'Ray config warning',
    };
    if (d.severity === 'error') core.error(message, props);
    else core.warning(message, props);
  }
  for (const e of result.errors) {
    core.error(secrets.mask(`${e.message}${e.hint ? ` (hint: ${e.hint})` : ''}`), {
      title: e.node ?? `nokube ray ${result.command}`,
    });
  }
}

export function setOutputs(result: RunResult, secrets: SecretRegistry): void {
  for (const [name, value] of Object.entries(runOutputs(result))) {
    core.setOutput(name, secrets.mask(typeof value === 'string' ? value : value === null ? '' : JSON.stringify(value)));
  }
}

export async function writeSummary(result: RunResult, ctx: RunContext, secrets: SecretRegistry): Promise<void> {
  if (!ctx.env.GITHUB_STEP_SUMMARY) {
    core.debug('GITHUB_STEP_SUMMARY is not set: no job summary');
    return;
  }
  try {
    await core.summary.addRaw(secrets.mask(renderSummary(result, { runUrl: ctx.runUrl, sha: ctx.sha })), true).write();
  } catch (err) {
    core.warning(`the job summary could not be written: ${(err as Error).message}`);
  }
}

/** A RunResult for a run that never reached the engine, so the summary and outputs still say why. */
export function thrownResult(command: Command, configPath: string, message: string): RunResult {
  return {
    command,
    configPath,
    ok: false,
    status: 'unknown',
    nodes: [],
    aliveNodes: 0,
    expectedNodes: 0,
    changes: 0,
    diagnostics: [],
    errors: [{ message }],
    warnings: [],
    timings: [],
  };
}

export function toPosix(path: string): string {
  return path.split(sep).join('/');
}
