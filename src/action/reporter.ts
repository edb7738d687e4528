// The engine's Reporter in a workflow: progress to the log, warnings as annotations, debug lines only
// in the runner's debug mode, every secret masked.
import * as core from '@actions/core';
import type { Reporter } from '../engine/types';
import type { SecretRegistry } from './secrets';

export function actionReporter(secrets: SecretRegistry): Reporter {
  return {
    node: (name, message, elapsedMs) =>
      core.info(
        secrets.mask(`${name}: ${message}${elapsedMs !== undefined ? ` (${(elapsedMs / 1000).toFixed(2)}s)` : ''}`),
      ),
    info: (message) => core.info(secrets.mask(message)),
    warn: (message) => core.warning(secrets.mask(message)),
    debug: (message) => core.debug(secrets.mask(message)),
    secret: (value) => secrets.add(value),
    output: jobLog(secrets),
  };
}

/** What runs on the cluster (a job's log) into the workflow log, line by line, masked. */
function jobLog(secrets: SecretRegistry): NonNullable<Reporter['output']> {
  let pending = '';
  return (text) => {
    pending += text;
    const cut = pending.lastIndexOf('\n');
    if (cut < 0) return;
    for (const line of pending.slice(0, cut).split('\n')) core.info(secrets.mask(line));
    pending = pending.slice(cut + 1);
  };
}
