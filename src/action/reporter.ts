// The engine's Reporter in a workflow: each phase a collapsible group of the log, progress lines in
// it, warnings as annotations, debug lines only in the runner's debug mode, every secret masked.
import * as core from '@actions/core';
import type { Reporter } from '../engine/types';
import { commandsStopped, logLines } from '../render/safe-text';
import type { SecretRegistry } from './secrets';

/** `title` names a phase's group (`nokube ray start: connect`). */
export function actionReporter(secrets: SecretRegistry, title = (phase: string) => phase): Reporter {
  return {
    // every line (Ray's output too) starts with the node's name: none can be a workflow command
    phase: (name) => {
      core.startGroup(secrets.mask(title(name)));
      return () => core.endGroup();
    },
    node: (name, message, elapsedMs) =>
      core.info(
        logLines(
          `${name}: `,
          secrets.mask(`${message}${elapsedMs !== undefined ? ` (${(elapsedMs / 1000).toFixed(2)}s)` : ''}`),
        ),
      ),
    info: (message) => core.info(logLines('', secrets.mask(message))),
    warn: (message) => core.warning(secrets.mask(message)),
    debug: (message) => core.debug(secrets.mask(message)),
    secret: (value) => secrets.add(value),
    output: jobLog(secrets),
  };
}

/**
 * What runs on the cluster (a job's log) into the workflow log, whole lines, masked, as it is: with
 * workflow commands stopped around each batch, so none of its lines is obeyed (a prefix would not
 * do: the runner also reads `##[command]` anywhere in a line), while ours in between still are.
 */
function jobLog(secrets: SecretRegistry): NonNullable<Reporter['output']> {
  let pending = '';
  return (text) => {
    pending += text;
    const cut = pending.lastIndexOf('\n');
    if (cut < 0) return;
    core.info(commandsStopped(secrets.mask(pending.slice(0, cut))));
    pending = pending.slice(cut + 1);
  };
}
