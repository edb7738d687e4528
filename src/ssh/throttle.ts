// sshd's MaxStartups (default 10:30:100) drops new connections while too many logins are still in
// progress: at random from 10, all of them from 100. A fan-out over many nodes behind one sshd (a
// bastion, a port-forwarding gateway, several nodes on one host) hits it. Such a drop comes before
// the SSH banner, so it is told apart from a real failure, and retried after a short random backoff
// instead of failing the node (or waiting for a long timeout).

/** True for a connection closed or reset by the server before the SSH handshake finished. */
export function isThrottleRefusal(err: unknown): boolean {
  const e = err as { kind?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.kind !== 'unreachable') return false;
  const text = `${e.message ?? ''} ${e.cause?.message ?? ''}`;
  return e.cause?.code === 'ECONNRESET' || /before the SSH handshake|before handshake/i.test(text);
}

export interface RetryOptions {
  /** Stop retrying once this much time has gone by since the first try. */
  budgetMs: number;
  /** At most this many tries in all. */
  tries?: number;
  debug?: (message: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

const FIRST_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1000;

/** Runs `work`; while it fails with a throttle refusal and the budget lasts, tries again after a backoff. */
export async function retryThrottled<T>(work: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const tries = opts.tries ?? 10;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      // random in [0.5, 1.5) × an exponential step: refused clients do not come back all at once
      const wait = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempt - 1)) * (0.5 + Math.random());
      if (!isThrottleRefusal(err) || attempt >= tries || Date.now() - started + wait > opts.budgetMs) throw err;
      opts.debug?.(`refused before the handshake (sshd MaxStartups?): try ${attempt + 1} in ${Math.round(wait)} ms`);
      await sleep(wait);
    }
  }
}
