// The commands that use a running cluster (the design note's day two: job, exec, env, logs,
// dashboard), in one shape: each gets the CLI's settings and the session options, prints its own
// result and returns its exit code. All go through the engine's run(): job, exec and env return a
// RunResult; logs and dashboard results of their own (an archive on disk; forwards held open until Ctrl-C).
import { run } from '../engine';
import type { SessionOptions } from '../engine/types';
import type { RunOptions } from '../engine/types';
import type { SecretMask } from '../render/secret-mask';
import type { CliCommand, CliSettings } from './args';
import { dashboardCommand } from './dashboard';
import { logsCommand } from './logs';
import type { CliIO } from './io';
import { printRunResult } from './run-output';
import { printUseResult } from './use-output';
import type { LiveOutput } from '../render/live-output';

export interface UseRun {
  settings: CliSettings;
  options: SessionOptions;
  io: CliIO;
  mask: SecretMask;
  /** The live output of what runs on the cluster (a job's log, exec's lines). */
  live: LiveOutput;
}

type UseCommand = 'job' | 'exec' | 'env' | 'logs' | 'dashboard';

async function viaRun(u: UseRun): Promise<number> {
  const raw = await run({ ...u.options, command: u.settings.command as RunOptions['command'] });
  // an invalid config is reported as by every other command
  if (raw.diagnostics.some((d) => d.severity === 'error')) return printRunResult(raw, u.settings, u.io, u.mask);
  u.live.flush();
  return printUseResult(raw, u.settings, u.io, u.mask);
}

const USE_COMMANDS: Record<UseCommand, (u: UseRun) => Promise<number>> = {
  job: viaRun,
  exec: viaRun,
  env: viaRun,
  logs: (u) => logsCommand(u.settings, u.options, u.io, u.mask),
  dashboard: (u) => dashboardCommand(u.settings, u.options, u.io, u.mask),
};

/** How a command that uses a running cluster runs; undefined for the others (validate ... stop). */
export function useCommand(command: CliCommand): ((u: UseRun) => Promise<number>) | undefined {
  return (USE_COMMANDS as Partial<Record<CliCommand, (u: UseRun) => Promise<number>>>)[command];
}
