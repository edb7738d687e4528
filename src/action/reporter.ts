// The engine's Reporter in a workflow: progress to the log, warnings as annotations, debug lines only
// in the runner's debug mode, every secret masked.
import * as core from '@actions/core';
import type { Reporter } from '../engine/types';
import { logLines } from '../render/safe-text';
import type { SecretRegistry } from './secrets';

export function actionReporter(secrets: SecretRegistry): Reporter {
  return {
    // every line (Ray's output too) starts with the node's name: none can be a workflow command
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
  };
}
