// The engine's single entry point: both front ends call run() and render its RunResult.
import type { RunOptions, RunResult } from './types';

export type * from './types';

export async function run(options: RunOptions): Promise<RunResult> {
  void options;
  throw new Error('engine: not implemented yet');
}
