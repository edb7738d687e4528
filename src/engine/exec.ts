// `exec`: a command on the chosen nodes (default the head), in parallel, each in its node's Ray
// environment; output streams per node as it comes; the run's exit status is the worst one.
import { mapLimit } from './steps/concurrency';
import { chooseNodes, runInRayEnv } from './steps/ray-env';
import { fail, type PhaseClock } from './steps/run-result';
import { nodeError, type ClusterSession } from './steps/session';
import type { ExecNodeResult, RunResult } from './types';

/** Exit status of a node where the command could not run at all (unreachable, not started). */
export const NOT_RUN = 255;

export async function runExec(session: ClusterSession, result: RunResult, clock: PhaseClock): Promise<void> {
  const { options } = session;
  const request = options.exec;
  if (!request?.argv.length) {
    fail(result, { message: 'exec needs a command after --', hint: 'nokube ray exec --config F --all -- hostname' });
    result.badInput = true;
    return;
  }
  const chosen = chooseNodes(session, request);
  if (!Array.isArray(chosen)) {
    fail(result, chosen);
    result.badInput = true;
    return;
  }
  const handles = await clock.phase('connect', () => session.connect(chosen));
  // the head's address for RAY_ADDRESS: its resolved IP, when this run did not connect it
  if (!chosen.includes(session.cluster.head)) await session.resolve(session.cluster.head);
  const runs: ExecNodeResult[] = [];
  await clock.phase('exec', () =>
    mapLimit(handles, options.concurrency, async (h) => {
      const entry: ExecNodeResult = { node: h.node.name, exit_code: null, stdout: '', stderr: '' };
      runs.push(entry);
      if (!h.lib) {
        entry.error = h.error?.message ?? 'not connected';
        fail(result, h.error ?? { node: h.node.name, message: entry.error });
        return;
      }
      const t0 = Date.now();
      const out = (stream: 'stdout' | 'stderr') => (chunk: string) =>
        options.reporter.output?.(chunk, stream, h.node.name);
      try {
        const res = await runInRayEnv(session, h, request.argv, {
          onStdout: out('stdout'),
          onStderr: out('stderr'),
          signal: options.signal,
        });
        if (res.aborted) result.interrupted = true;
        entry.exit_code = res.code ?? NOT_RUN;
        entry.stdout = res.stdout;
        entry.stderr = res.stderr;
        if (res.signal) entry.error = `killed by ${res.signal}`;
        options.reporter.debug(`[${h.node.name}] exit ${res.signal ?? res.code} in ${Date.now() - t0} ms`);
      } catch (err) {
        const e = nodeError(h.node, err);
        entry.error = e.message;
        entry.exit_code = (err as { exitCode?: number }).exitCode ?? NOT_RUN;
        fail(result, e);
      }
    }),
  );
  const order = new Map(chosen.map((n, i) => [n.name, i]));
  result.exec = runs.sort((a, b) => order.get(a.node)! - order.get(b.node)!);
  result.status = 'unknown';
  if (runs.some((r) => r.exit_code !== 0)) result.ok = false;
}

/** The worst exit status of an exec: the highest one (255 when a node could not run it). */
export function worstExit(runs: ExecNodeResult[]): number {
  return runs.reduce((worst, r) => Math.max(worst, r.exit_code ?? NOT_RUN), 0);
}
