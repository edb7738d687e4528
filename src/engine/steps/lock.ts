// The deploy lock on the head (remote_lib's `lock` verb, state/lock.json): one `start` or `stop` of a
// cluster at a time. It belongs to the holder's SSH connection to the head, so a run that was killed
// or cancelled loses it as soon as its connection closes, and the next run replaces it at once (and
// says so); a live run keeps it however long its apply takes, renewing it as it goes.
import { hostname } from 'node:os';
import { RemoteError } from '../../remote/client';
import type { LockAnswer, LockRequest } from '../../remote/types';
import { nodeError, type ClusterSession, type NodeHandle } from './session';
import type { RunError } from '../types';

/** The lease a holder without a recognisable sshd session falls back to; renewed well within it. */
const LEASE_SEC = 120;
const RENEW_MS = 30_000;
const RETRY_MS = 2_000;

export interface HeldLock {
  owner: string;
  /** Stops renewing and releases; `members` (what the apply recorded) goes with the release. */
  release(extra?: Record<string, unknown>): Promise<LockAnswer | undefined>;
}

/** "2026-12-01T09:30:00Z" from remote_lib's epoch seconds. */
export function lockTime(since: string | number | undefined): string {
  const n = Number(since);
  if (!Number.isFinite(n) || n <= 0) return String(since ?? '?');
  return new Date(Math.round(n) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Who this run is, as another run reads it in "held by ...": the front end's deployer ("run 123"). */
export function lockOwner(deployer: string | undefined): string {
  return `${deployer ? `${deployer} ` : ''}${hostname()} pid ${process.pid}`;
}

/**
 * Takes the lock on the head, waiting up to `options.waitLockSec` for another holder. Returns the held
 * lock, or the error that names the holder and since when it holds it.
 */
export async function takeLock(
  session: ClusterSession,
  head: NodeHandle,
): Promise<{ lock: HeldLock; error?: undefined } | { lock?: undefined; error: RunError }> {
  try {
    return await takeLockOnce(session, head);
  } catch (err) {
    if (!(err instanceof RemoteError)) throw err;
    // The head answered but remote_lib cannot run there (its storage path, its interpreter): that is
    // the head's own failure, reported on the head like any other node's, not the run's.
    head.error = nodeError(head.node, err);
    head.answered = true;
    return { error: head.error };
  }
}

async function takeLockOnce(
  session: ClusterSession,
  head: NodeHandle,
): Promise<{ lock: HeldLock; error?: undefined } | { lock?: undefined; error: RunError }> {
  const { cluster, options } = session;
  const { owner, ttl_sec } = lockRequest(session);
  const deadline = Date.now() + (options.waitLockSec ?? 0) * 1000;
  let told = false;
  for (;;) {
    const answer = await head.lib!.lock({ owner, ttl_sec });
    if (!answer.ok) {
      return {
        error: {
          node: head.node.name,
          host: head.node.sshUrl,
          message: `cannot take the deploy lock: ${answer.error}`,
          hint: answer.hint,
        },
      };
    }
    if (answer.acquired) {
      warnReplaced(session, answer);
      return { lock: heldLock(session, head, owner) };
    }
    const holder = `${answer.holder?.owner ?? 'unknown'} since ${lockTime(answer.holder?.since)}`;
    if (Date.now() + RETRY_MS > deadline) {
      return {
        error: {
          node: head.node.name,
          host: head.node.sshUrl,
          message: `another deploy of cluster "${cluster.clusterName}" holds the lock (${holder})`,
          hint: 'wait for it to finish, or pass --wait-lock SECONDS (Action input wait-lock) to queue behind it; a `concurrency:` group in the workflow queues deploys too',
        },
      };
    }
    if (!told) {
      options.reporter.info(`waiting for the lock held by ${holder} (up to ${options.waitLockSec}s)`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

/** What a lock call of this run sends (`lock` verb, or a head's probe that takes the lock). */
export function lockRequest(session: ClusterSession): LockRequest {
  return { owner: lockOwner(session.options.deployer), ttl_sec: LEASE_SEC };
}

/** Says so when the lock just taken replaced a holder that is gone. */
export function warnReplaced(session: ClusterSession, answer: LockAnswer): void {
  const stale = answer.replaced_stale;
  if (stale) {
    session.options.reporter.warn(
      `the deploy lock was held by ${stale.owner} (since ${lockTime(stale.since)}), which is gone: ${stale.reason ?? 'stale'}; replaced it`,
    );
  }
}

/** The lock as held once acquired: renewed every RENEW_MS until released. */
export function heldLock(session: ClusterSession, head: NodeHandle, owner: string): HeldLock {
  const { reporter } = session.options;
  const timer = setInterval(() => {
    head
      .lib!.lock({ owner, ttl_sec: LEASE_SEC })
      .then((a) => {
        if (!a.acquired) reporter.warn(`lost the deploy lock to ${a.holder?.owner ?? 'another run'}`);
      })
      .catch((err: Error) => reporter.debug(`renewing the lock failed: ${err.message}`));
  }, RENEW_MS);
  timer.unref();
  return {
    owner,
    release: (extra = {}) => {
      clearInterval(timer);
      return head.lib!.unlock({ owner, ...extra }).catch(() => undefined);
    },
  };
}
