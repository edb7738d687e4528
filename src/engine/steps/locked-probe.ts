// `start`'s first look at the cluster with the deploy lock in it: the head's probe takes the lock in
// the same call (remote_lib runs `lock` first, then probes), and the workers are probed at the same
// time. That saves a no-op `start` one round trip to the head (and one Python start there).
//
// The workers' answers count only if no deploy can have ended while they were taken: the lock was
// free and its last release is older than this whole look (head's clock minus the look's duration,
// which bounds when the workers were probed). Otherwise the workers are probed again, now under the
// lock. When another run holds the lock, nothing of this look is used: the caller waits for the lock
// and looks again.
import type { LockAnswer } from '../../remote/types';
import { probeAll, type Probed } from './inspect';
import { heldLock, lockRequest, warnReplaced, type HeldLock } from './lock';
import type { ClusterSession, NodeHandle } from './session';
import type { RunError } from '../types';

/**
 * The release time and `now` both come from the head's clock, and the look's duration bounds how far
 * apart the head's lock and any worker's probe ran: this margin only covers a clock step between them.
 */
const MARGIN_SEC = 0.1;

export type LockedLook =
  /** the lock is this run's (or could not be taken: `error`), `probed` was looked at under it */
  | { held: { lock: HeldLock; error?: undefined } | { lock?: undefined; error: RunError }; probed: Probed }
  /** another run holds it (or the head's answer had no lock): take it the usual way, then look again */
  | { held?: undefined; probed?: undefined };

export async function probeTakingLock(session: ClusterSession, handles: NodeHandle[]): Promise<LockedLook> {
  const { cluster } = session;
  const head = session.handle(cluster.head);
  const request = lockRequest(session);
  const t0 = Date.now();
  const probed = await probeAll(session, handles, true, request);
  const lookSec = (Date.now() - t0) / 1000;
  const answer = probed.probes.get(cluster.head.name)?.lock;
  if (head.error) {
    // the head answered but its probe failed (storage, interpreter): the preflight reports it
    return head.answered ? { held: { error: head.error }, probed } : {};
  }
  if (!answer || (answer.ok && !answer.acquired)) return {};
  if (!answer.ok) {
    const error = {
      node: cluster.head.name,
      host: cluster.head.sshUrl,
      message: `cannot take the deploy lock: ${answer.error}`,
      hint: answer.hint,
    };
    return { held: { error }, probed };
  }
  warnReplaced(session, answer);
  const lock = heldLock(session, head, request.owner);
  if (!lockWasIdle(answer, lookSec)) {
    // a deploy may have ended while the workers were probed: look at them again, under the lock
    const workers = handles.filter((h) => h.node.role !== 'head');
    const again = await probeAll(session, workers, true);
    for (const [name, p] of again.probes) probed.probes.set(name, p);
  }
  return { held: { lock }, probed };
}

/** Whether no deploy held the lock, nor released it, while a look of `lookSec` seconds was taken. */
export function lockWasIdle(answer: LockAnswer, lookSec: number): boolean {
  if (!answer.acquired || !answer.was_free || answer.replaced_stale || typeof answer.now !== 'number') return false;
  return answer.released_at == null || answer.released_at < answer.now - lookSec - MARGIN_SEC;
}
