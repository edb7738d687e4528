// What both front ends offer alike: the commands, the defaults of their flags and inputs, and how long
// one SSH connect may take. Written once so the CLI and the Action never disagree.
import type { Command } from './types';

export const COMMANDS: readonly Command[] = ['validate', 'plan', 'start', 'status', 'stop'];

export const DEFAULT_CONFIG = 'ray-config.yaml';
/** Nodes worked on at once. */
export const DEFAULT_CONCURRENCY = 16;
/** Seconds per node for one command. */
export const DEFAULT_TIMEOUT_SEC = 300;

/** A TCP connect + handshake gets 30 s at most, and never more than the whole per-node timeout. */
export function connectTimeoutSec(timeoutSec: number): number {
  return Math.min(30, timeoutSec);
}
