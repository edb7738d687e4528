// Logging in to one host, a node or a jump host: verify its host key, then try each of its users in
// turn (OpenSSH refuses a change of user within one connection, so each user gets a fresh
// connection) until one is let in.
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, Client, ConnectConfig, NextAuthHandler } from 'ssh2';
import type { Duplex } from 'node:stream';
import type { SshLog, SshOptions, SshTarget } from './types';
import { describeTarget } from './types';
import { authFailure, planLogins, protocolMethod, type AuthStep, type LoginPlan } from './auth';
import { SshError, hostPort, transportHint } from './errors';
import { hostKeyCheck, type HostKeyCheck } from './host-key';
import { retryThrottled } from './throttle';

/** What a login needs besides the target and the options. */
export interface LoginContext {
  /** For `${NAME}` references in credentials. */
  env: Record<string, string | undefined>;
  reporter: SshLog;
  signal?: AbortSignal;
}

const KEEPALIVE_MS = 10_000;
/**
 * Time allowed per login method once the handshake is done: sshd delays every refusal (PAM's
 * fail delay, fake auth for unknown users), and that is an auth answer, not a dead host.
 */
const AUTH_STEP_MS = 10_000;

/** A logged-in ssh2 client and how it got in. */
export interface LoggedIn {
  client: Client;
  user: string;
  authMethod: string;
  methodsTried: string[];
  hostKey: NonNullable<HostKeyCheck['accepted']>;
}

/**
 * Logs in to a node or a jump host: each of its users in turn. `tunnel` opens the stream to reach
 * it through its jump hosts (called once per connection attempt); without it, a direct TCP connect.
 */
export async function loginAny(
  target: SshTarget,
  opts: SshOptions,
  ctx: LoginContext,
  tunnel?: () => Promise<Duplex>,
): Promise<LoggedIn> {
  const logins = await planLogins(target, opts, ctx);
  const hostKey = hostKeyCheck(target, opts, ctx.reporter);
  const tried: string[] = [];
  const extra: string[] = [];
  for (const plan of logins.plans) {
    let attempt: Attempt = {};
    let refused: SshError | undefined;
    do {
      const before = refused;
      attempt = await retryThrottled(
        async () => login({ target, plan, hostKey, opts, ctx, tried, refusedBefore: before, sock: await tunnel?.() }),
        {
          budgetMs: Math.max(1, opts.connectTimeoutSec) * 1000,
          debug: (m) => ctx.reporter.debug(`[${target.name}] ${m}`),
        },
      );
      refused = attempt.refused;
    } while (attempt.retry);
    if (attempt.session) return attempt.session;
    if (attempt.note) extra.push(attempt.note);
  }
  throw authFailure(target, logins, tried, extra);
}

interface Attempt {
  session?: LoggedIn;
  /** Why this user was not let in, beyond "refused" (e.g. the server dropped us). */
  note?: string;
  /** Connect again: the host key check wants to see another of the host's keys. */
  retry?: boolean;
  /** With `retry`: the refusal to report if no other key type turns up. */
  refused?: SshError;
}

interface LoginRequest {
  target: SshTarget;
  plan: LoginPlan;
  hostKey: HostKeyCheck;
  opts: SshOptions;
  ctx: LoginContext;
  /** Every method tried so far, across users (grows). */
  tried: string[];
  /** Set when this is a retry after a fingerprint pin did not match the key first presented. */
  refusedBefore?: SshError;
  /** The stream through the jump hosts, if any. */
  sock?: Duplex;
}

/** Where a login attempt stands when ssh2 reports an error or a close. */
interface LoginState {
  authStarted: boolean;
  /** Why ssh-agent could not help, kept for the error if every method is refused. */
  agentProblem?: string;
}

/** What an ssh2 error (or a close) means for this attempt. */
type Outcome =
  | { kind: 'go-on' } // ssh2 continues with the next method by itself
  | { kind: 'refused'; note?: string } // this user is not let in: try the next one
  | { kind: 'retry'; refused: SshError } // connect again for another host key type
  | { kind: 'fail'; error: SshError }; // give up on this target

type TransportError = Error & { level?: string; code?: string };

/** The small error classifier: an ssh2 error, or a close (`err` undefined), to an outcome. */
function classify(req: LoginRequest, state: LoginState, err: TransportError | undefined): Outcome {
  const { target, plan, hostKey, opts } = req;
  const { host, sshPort: port } = target;
  const hp = hostPort(host, port);
  const who = describeTarget(target);
  const error = (message: string, kind: SshError['kind'], hint: string, extra: Partial<SshError> = {}) =>
    new SshError(message, { kind, node: target.name, host, port, user: plan.user, hint, ...extra });

  if (hostKey.failure) {
    return hostKey.retryOtherKeyType
      ? { kind: 'retry', refused: hostKey.failure }
      : { kind: 'fail', error: hostKey.failure };
  }
  if (err === undefined) {
    if (state.authStarted)
      return { kind: 'refused', note: `${hp} closed the connection while logging in as ${plan.user}` };
    return {
      kind: 'fail',
      error: error(
        `${who} (${hp}) closed the connection before the SSH handshake finished`,
        'unreachable',
        transportHint('ECONNRESET', host, port),
      ),
    };
  }
  // Asked for the key types not seen yet and the host has none: the pin matched nothing.
  if (req.refusedBefore && err.level === 'handshake') return { kind: 'fail', error: req.refusedBefore };
  if (err.level === 'agent') {
    state.agentProblem = `ssh-agent (${opts.agentSocket ?? 'socket'}) could not be used: ${err.message}`;
    return { kind: 'go-on' };
  }
  if (err.level === 'client-authentication') return { kind: 'refused', note: state.agentProblem };
  if (err.level === 'client-timeout') {
    const message = state.authStarted
      ? `${who} (${hp}) did not answer the login as ${plan.user} in time`
      : `no SSH handshake with ${who} (${hp}) within ${opts.connectTimeoutSec} s`;
    return {
      kind: 'fail',
      error: error(message, 'timeout', transportHint('timeout', host, port), {
        methodsTried: [...req.tried],
        cause: err,
      }),
    };
  }
  // sshd dropped us mid-login (MaxAuthTries, PAM, ...): this user is out, try the next one.
  if (state.authStarted)
    return { kind: 'refused', note: `${hp} closed the connection while logging in as ${plan.user} (${err.message})` };
  const code = err.code ?? (err.level === 'client-dns' ? 'ENOTFOUND' : undefined);
  return {
    kind: 'fail',
    error: error(
      `cannot reach ${who} at ${hp}: ${err.message}`,
      code === 'ETIMEDOUT' ? 'timeout' : 'unreachable',
      transportHint(code, host, port),
      { cause: err },
    ),
  };
}

/** One connection as one user: resolves with the session, or with no session when refused. */
function login(req: LoginRequest): Promise<Attempt> {
  const { target, plan, hostKey, opts, ctx } = req;
  const { host, sshPort: port } = target;
  const hp = hostPort(host, port);
  const who = describeTarget(target);
  const debug = (m: string) => ctx.reporter.debug(`[${target.name}] ${m}`);
  const client: Client = new ssh2.Client();
  const state: LoginState = { authStarted: false };
  let current: AuthStep | undefined;
  hostKey.failure = undefined;
  hostKey.retryOtherKeyType = false;
  const timeoutError = () =>
    new SshError(`no SSH handshake with ${who} (${hp}) within ${opts.connectTimeoutSec} s`, {
      kind: 'timeout',
      node: target.name,
      host,
      port,
      user: plan.user,
      hint: transportHint('timeout', host, port),
    });

  return new Promise<Attempt>((resolve, reject) => {
    let done = false;
    const settle = (attempt: Attempt | SshError) => {
      if (done) return;
      done = true;
      clearTimeout(handshakeTimer);
      ctx.signal?.removeEventListener('abort', onAbort);
      if (attempt instanceof SshError) {
        client.end();
        reject(attempt);
      } else {
        if (!attempt.session) client.end();
        resolve(attempt);
      }
    };
    const onAbort = () =>
      settle(
        new SshError(`connecting to ${who} (${hp}) was aborted`, {
          kind: 'timeout',
          node: target.name,
          host,
          port,
          user: plan.user,
          hint: 'the run was cancelled or its deadline passed',
        }),
      );
    // connectTimeoutSec bounds TCP connect + key exchange; the login after it has its own budget.
    const handshakeTimer = setTimeout(() => settle(timeoutError()), Math.max(1, opts.connectTimeoutSec) * 1000);
    if (ctx.signal?.aborted) return onAbort();
    ctx.signal?.addEventListener('abort', onAbort, { once: true });

    const apply = (outcome: Outcome) => {
      switch (outcome.kind) {
        case 'go-on':
          return;
        case 'refused':
          return settle(outcome.note ? { note: outcome.note } : {});
        case 'retry':
          return settle({ retry: true, refused: outcome.refused });
        case 'fail':
          return settle(outcome.error);
      }
    };

    let next = 0;
    const authHandler = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, cb: NextAuthHandler) => {
      state.authStarted = true;
      clearTimeout(handshakeTimer);
      if (current) debug(`${current.describe} as ${plan.user}: refused`);
      while (next < plan.steps.length) {
        const step = plan.steps[next++];
        const method = protocolMethod(step);
        if (methodsLeft && !methodsLeft.includes(method)) {
          req.tried.push(`${step.describe} as ${plan.user} (server does not accept ${method})`);
          continue;
        }
        current = step;
        req.tried.push(`${step.describe} as ${plan.user}`);
        debug(`trying ${step.describe} as ${plan.user}`);
        return cb(toSsh2(step, plan.user));
      }
      current = undefined;
      return cb(false as unknown as AnyAuthMethod);
    };

    const config: ConnectConfig = {
      host,
      port,
      username: plan.user,
      readyTimeout: Math.max(1, opts.connectTimeoutSec) * 1000 + AUTH_STEP_MS * Math.max(1, plan.steps.length),
      keepaliveInterval: KEEPALIVE_MS,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => hostKey.verify(key),
      authHandler: authHandler as unknown as ConnectConfig['authHandler'],
    };
    if (req.sock) config.sock = req.sock;
    if (hostKey.serverHostKey) config.algorithms = { serverHostKey: hostKey.serverHostKey as never };
    if (opts.protocolDebug) config.debug = (m: string) => debug(`ssh: ${m}`);

    client.once('ready', () => {
      client.removeAllListeners('error');
      debug(`logged in to ${hp} as ${plan.user} with ${current?.describe}`);
      settle({
        session: {
          client,
          user: plan.user,
          authMethod: current?.describe ?? 'none',
          methodsTried: [...req.tried],
          hostKey: hostKey.accepted!,
        },
      });
    });
    client.on('error', (err: TransportError) => {
      debug(`connection error (${err.level ?? 'unknown'}): ${err.message}`);
      apply(classify(req, state, err));
    });
    client.on('close', () => {
      if (!done) apply(classify(req, state, undefined));
    });

    debug(`connecting to ${hp} as ${plan.user}${req.sock ? ' through its jump host' : ''}`);
    try {
      client.connect(config);
      // SSH's small handshake packets must not wait for the peer's delayed ACK (Nagle: 40 ms a stall)
      client.setNoDelay(true);
      ignoreHostKeyAnnouncement(client, debug);
    } catch (err) {
      settle(
        new SshError(`cannot connect to ${who} (${hp}): ${(err as Error).message}`, {
          kind: 'config',
          node: target.name,
          host,
          port,
          user: plan.user,
          hint: 'check ssh_url and the supplied keys',
          cause: err,
        }),
      );
    }
  });
}

type GlobalRequestHandler = (
  proto: { requestSuccess(): void },
  name: string,
  wantReply: boolean,
  data: unknown,
) => void;

/**
 * After login, OpenSSH's sshd announces every host key it has (`hostkeys-00@openssh.com`, for a
 * client's UpdateHostKeys), and ssh2 answers each time by asking the node to prove them all
 * (`hostkeys-prove-00@openssh.com`): one signature per host key on the node (an RSA-3072 one is
 * ≈ 2.3 ms of its CPU) and their checks on the runner, on every connection, for keys nokube never
 * records: the key the connection was checked against is already pinned or in known_hosts. The
 * announcement is acknowledged and dropped, as `ssh -o UpdateHostKeys=no` does. This reaches into
 * ssh2's protocol object (pinned in package-lock.json); where it is not there, ssh2 keeps its way.
 */
function ignoreHostKeyAnnouncement(client: Client, debug: (m: string) => void): void {
  const handlers = (client as unknown as { _protocol?: { _handlers?: Record<string, GlobalRequestHandler> } })._protocol
    ?._handlers;
  const handle = handlers?.GLOBAL_REQUEST;
  if (!handlers || typeof handle !== 'function') return;
  handlers.GLOBAL_REQUEST = (proto, name, wantReply, data) => {
    if (name !== 'hostkeys-00@openssh.com') return handle(proto, name, wantReply, data);
    debug('the node announced its host keys (hostkeys-00@openssh.com): not asked to prove them');
    if (wantReply) proto.requestSuccess();
  };
}

function toSsh2(step: AuthStep, username: string): AnyAuthMethod {
  switch (step.type) {
    case 'password':
      return { type: 'password', username, password: step.password };
    case 'publickey':
      return { type: 'publickey', username, key: step.key.parsed };
    case 'agent':
      return { type: 'agent', username, agent: step.agent };
  }
}
