// What both front ends offer alike: the commands, the defaults of their flags and inputs, and how long
// one SSH connect may take. Written once so the CLI and the Action never disagree.
import type { Command, JobAction } from '../types';

export const COMMANDS: readonly Command[] = ['validate', 'plan', 'start', 'status', 'stop', 'job', 'check'];
/**
 * Commands only a terminal has: they print to it or keep it open. All go through run(); logs (an
 * archive on disk) and dashboard (forwards held open) return results of their own; firewall reads only
 * the config (no SSH), as validate does; init writes a first config from hosts it looks at.
 */
export const CLI_ONLY_COMMANDS = ['exec', 'env', 'logs', 'dashboard', 'firewall', 'init'] as const;
export type CliOnlyCommand = (typeof CLI_ONLY_COMMANDS)[number];
/** `job`'s actions (the Action's `command: job` is `submit`). */
export const JOB_ACTIONS: readonly JobAction[] = ['submit', 'status', 'logs', 'stop', 'list'];

export const DEFAULT_CONFIG = 'ray-config.yaml';
/** Nodes worked on at once. */
export const DEFAULT_CONCURRENCY = 16;
/** Seconds per node for one command. */
export const DEFAULT_TIMEOUT_SEC = 300;

/** A TCP connect + handshake gets 30 s at most, and never more than the whole per-node timeout. */
export function connectTimeoutSec(timeoutSec: number): number {
  return Math.min(30, timeoutSec);
}

/**
 * The bounds every request to a node carries, so remote_lib holds no default of its own: a request
 * without one is refused there as nokube's bug, never quietly filled in.
 */
export const NODE_LIMITS = {
  /** Seconds `ray start` may take on one node (never more than the per-node timeout). */
  rayStartSec: 180,
  /** Seconds between SIGTERM and SIGKILL when a node's Ray processes are stopped. */
  stopGraceSec: 10,
  /** Seconds a worker gives its TCP connect to the head's GCS before its start is refused. */
  headConnectSec: 5,
  /** Seconds `job stop` waits for the job to end after Ray's job API accepted the stop. */
  jobStopWaitSec: 30,
  /** Bytes of log text a node packs for `logs` (uncompressed) when no budget is asked for. */
  logsMaxBytes: 20 * 1024 * 1024,
  /** Bytes kept of one log file (its newest part) in that pack. */
  logsFileMaxBytes: 4 * 1024 * 1024,
  /** Seconds `status --deep`'s import job may take on the head. */
  importsSec: 120,
  /** Seconds the head gives each call to the Redis of GCS fault tolerance when `stop` clears its state. */
  redisSec: 5,
} as const;

/** Seconds `ray start` may take on a node, within the per-node timeout. */
export function rayStartSec(timeoutSec: number): number {
  return Math.min(NODE_LIMITS.rayStartSec, timeoutSec);
}
