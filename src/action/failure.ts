// The message a failed step ends with: why, in one line, from the verdict both front ends share.
import { verdict } from '../engine/decisions/verdict';
import type { RunResult } from '../engine/types';
import type { ActionInputs } from './inputs';

/** Why the step fails, or undefined when it passes. */
export function failureMessage(
  result: RunResult,
  inputs: Pick<ActionInputs, 'command' | 'failOnUnhealthy'>,
): string | undefined {
  const outcome = verdict(result, inputs.failOnUnhealthy);
  if (outcome === 'invalid') {
    const invalid = result.diagnostics.filter((d) => d.severity === 'error').length;
    return `${result.configPath} is invalid: ${invalid} error${invalid === 1 ? '' : 's'} (see the annotations and the job summary)`;
  }
  if (outcome === 'failed') {
    const first = result.errors[0];
    const more = result.errors.length > 1 ? ` (and ${result.errors.length - 1} more: see the job summary)` : '';
    return `${inputs.command} failed: ${first ? `${first.node ? `${first.node}: ` : ''}${first.message}` : 'see the job summary'}${more}`;
  }
  if (outcome === 'unhealthy' && inputs.command === 'start')
    return `start finished but the cluster is ${result.status}${notRunning(result)}`;
  if (outcome === 'unhealthy') {
    return `the cluster is ${result.status}: ${result.aliveNodes} of ${result.expectedNodes} nodes alive${notRunning(result)} (fail-on-unhealthy is true)`;
  }
  return undefined;
}

/** `, ray-worker-1 is missing, ray-worker-2 is unreachable`: the nodes an unhealthy cluster lacks, by name. */
function notRunning(result: RunResult): string {
  const shown = 10;
  const nodes = result.nodes.filter((n) => n.state !== 'running');
  // A stopped cluster lacks every node: naming them all says nothing more.
  if (!nodes.length || result.status === 'stopped') return '';
  const named = nodes.slice(0, shown).map((n) => `${n.name} is ${n.state}`);
  const more = nodes.length > shown ? ` and ${nodes.length - shown} more` : '';
  return `, ${named.join(', ')}${more}`;
}
