// Whether a run passed, the same for both front ends: the CLI turns it into an exit code, the Action
// into a failed step.
import type { RunResult } from '../types';

/** `invalid`: the config has errors; `failed`: a step failed; `unhealthy`: it ran, the cluster is not healthy. */
export type Verdict = 'pass' | 'invalid' | 'failed' | 'unhealthy';

/** `failOnUnhealthy: false` lets `status` pass on an unhealthy cluster; `start` must leave it healthy. */
export function verdict(result: RunResult, failOnUnhealthy = true): Verdict {
  if (result.diagnostics.some((d) => d.severity === 'error')) return 'invalid';
  if (!result.ok) return 'failed';
  if (result.command === 'start' && result.status !== 'healthy') return 'unhealthy';
  if (result.command === 'status' && failOnUnhealthy && result.status !== 'healthy') return 'unhealthy';
  return 'pass';
}
