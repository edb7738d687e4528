// Opening the one connection a run keeps to a node: verify the host key, then log in as each of
// the node's users in turn (OpenSSH refuses a change of user within one connection, so each user
// gets a fresh connection) until one is let in.
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, Client, ConnectConfig, NextAuthHandler } from 'ssh2';
import type { NodeSpec } from '../config/types';
import type { Reporter, SshOptions } from '../engine/types';
import { authFailure, planLogins, protocolMethod, type AuthStep, type LoginPlan } from './auth';
import { SshError, hostPort, transportHint } from './errors';
import { hostKeyCheck, type HostKeyCheck } from './host-key';
import { SshConnection, type NodeConnection } from './connection';
import { retryThrottled } from './throttle';

export interface ConnectContext {
  env: Record<string, string | undefined>;
  reporter: Reporter;
  signal?: AbortSignal;
}

const KEEPALIVE_MS = 10_000;
/**
 * Time allowed per login method once the handshake is done: sshd delays every refusal (PAM's
 * fail delay, fake auth for unknown users), and that is an auth answer, not a dead host.
 */
const AUTH_STEP_MS = 10_000;

/** True when NOKUBE_DEBUG (or the runner's debug mode) asks for SSH negotiation detail. */
export function sshDebugEnabled(env: Record<string, string | undefined>): boolean {
  const on = (v: string | undefined) => ['1', 'true', 'yes', 'on'].includes((v ?? '').toLowerCase());
  return on(env.NOKUBE_DEBUG) || on(env.RUNNER_DEBUG);
}

export async function connectNode(node: NodeSpec, opts: SshOptions, ctx: ConnectContext): Promise<NodeConnection> {
  const logins = await planLogins(node, opts, ctx);
  const hostKey = hostKeyCheck(node, opts, ctx.reporter);
  const tried: string[] = [];
  const extra: string[] = [];
  for (const plan of logins.plans) {
    let attempt: Attempt = {};
    let refused: SshError | undefined;
    do {
      const before = refused;
      attempt = await retryThrottled(() => login(node, plan, hostKey, opts, ctx, tried, before), {
        budgetMs: Math.max(1, opts.connectTimeoutSec) * 1000,
        debug: (m) => ctx.reporter.debug(`[${node.name}] ${m}`),
      });
      refused = attempt.refused;
    } while (attempt.retry);
    if (attempt.connection) return attempt.connection;
    if (attempt.note) extra.push(attempt.note);
  }
  throw authFailure(node, logins, tried, extra);
}

interface Attempt {
  connection?: NodeConnection;
  /** Why this user was not let in, beyond "refused" (e.g. the server dropped us). */
  note?: string;
  /** Connect again: the host key check wants to see another of the host's keys. */
  retry?: boolean;
  /** With `retry`: the refusal to report if no other key type turns up. */
  refused?: SshError;
}

/** One connection as one user: resolves with the connection, or with no connection when refused. */
function login(
  node: NodeSpec,
  plan: LoginPlan,
  hostKey: HostKeyCheck,
  opts: SshOptions,
  ctx: ConnectContext,
  tried: string[],
  /** Set when this is a retry after a fingerprint pin did not match the key first presented. */
  refusedBefore?: SshError,
): Promise<Attempt> {
  const { host, sshPort: port } = node;
  const hp = hostPort(host, port);
  const debug = (m: string) => ctx.reporter.debug(`[${node.name}] ${m}`);
  const client: Client = new ssh2.Client();
  let current: AuthStep | undefined;
  let authStarted = false;
  let agentProblem: string | undefined;
  hostKey.failure = undefined;
  hostKey.retryOtherKeyType = false;

  return new Promise<Attempt>((resolve, reject) => {
    let done = false;
    const settle = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(handshakeTimer);
      ctx.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const fail = (err: SshError) =>
      settle(() => {
        client.end();
        reject(err);
      });
    const onAbort = () =>
      fail(
        new SshError(`connecting to node ${node.name} (${hp}) was aborted`, {
          kind: 'timeout',
          node: node.name,
          host,
          port,
          user: plan.user,
          hint: 'the run was cancelled or its deadline passed',
        }),
      );
    // connectTimeoutSec bounds TCP connect + key exchange; the login after it has its own budget.
    const handshakeTimer = setTimeout(
      () =>
        fail(
          new SshError(`no SSH handshake with node ${node.name} (${hp}) within ${opts.connectTimeoutSec} s`, {
            kind: 'timeout',
            node: node.name,
            host,
            port,
            user: plan.user,
            hint: transportHint('timeout', host, port),
          }),
        ),
      Math.max(1, opts.connectTimeoutSec) * 1000,
    );
    if (ctx.signal?.aborted) return onAbort();
    ctx.signal?.addEventListener('abort', onAbort, { once: true });

    let next = 0;
    const authHandler = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, cb: NextAuthHandler) => {
      authStarted = true;
      clearTimeout(handshakeTimer);
      if (current) debug(`${current.describe} as ${plan.user}: refused`);
      while (next < plan.steps.length) {
        const step = plan.steps[next++];
        const method = protocolMethod(step);
        if (methodsLeft && !methodsLeft.includes(method)) {
          tried.push(`${step.describe} as ${plan.user} (server does not accept ${method})`);
          continue;
        }
        current = step;
        tried.push(`${step.describe} as ${plan.user}`);
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
    if (hostKey.serverHostKey) config.algorithms = { serverHostKey: hostKey.serverHostKey as never };
    if (sshDebugEnabled(ctx.env)) config.debug = (m: string) => debug(`ssh: ${m}`);

    client.once('ready', () =>
      settle(() => {
        client.removeAllListeners('error');
        debug(`logged in to ${hp} as ${plan.user} with ${current?.describe}`);
        resolve({
          connection: new SshConnection(client, {
            node,
            user: plan.user,
            authMethod: current?.describe ?? 'none',
            methodsTried: [...tried],
            hostKey: hostKey.accepted!,
            reporter: ctx.reporter,
          }),
        });
      }),
    );
    const hostKeyRefused = () => {
      if (!hostKey.retryOtherKeyType) return fail(hostKey.failure!);
      const refused = hostKey.failure!;
      settle(() => {
        client.end();
        resolve({ retry: true, refused });
      });
    };
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      debug(`connection error (${err.level ?? 'unknown'}): ${err.message}`);
      if (hostKey.failure) return hostKeyRefused();
      // Asked for the key types not seen yet and the host has none: the pin matched nothing.
      if (refusedBefore && err.level === 'handshake') return fail(refusedBefore);
      if (err.level === 'agent') {
        // ssh2 goes on with the next method by itself; keep why the agent did not help.
        agentProblem = `ssh-agent (${opts.agentSocket ?? 'socket'}) could not be used: ${err.message}`;
        return;
      }
      if (err.level === 'client-authentication') {
        return settle(() => {
          client.end();
          resolve(agentProblem ? { note: agentProblem } : {});
        });
      }
      if (err.level === 'client-timeout') {
        return fail(
          new SshError(
            authStarted
              ? `node ${node.name} (${hp}) did not answer the login as ${plan.user} in time`
              : `no SSH handshake with node ${node.name} (${hp}) within ${opts.connectTimeoutSec} s`,
            {
              kind: 'timeout',
              node: node.name,
              host,
              port,
              user: plan.user,
              methodsTried: [...tried],
              hint: transportHint('timeout', host, port),
              cause: err,
            },
          ),
        );
      }
      if (authStarted) {
        // sshd dropped us mid-login (MaxAuthTries, PAM, ...): this user is out, try the next one.
        return settle(() => {
          client.end();
          resolve({ note: `${hp} closed the connection while logging in as ${plan.user} (${err.message})` });
        });
      }
      const code = err.code ?? (err.level === 'client-dns' ? 'ENOTFOUND' : undefined);
      const timeout = code === 'ETIMEDOUT';
      fail(
        new SshError(`cannot reach node ${node.name} at ${hp}: ${err.message}`, {
          kind: timeout ? 'timeout' : 'unreachable',
          node: node.name,
          host,
          port,
          user: plan.user,
          hint: transportHint(code, host, port),
          cause: err,
        }),
      );
    });
    client.on('close', () => {
      if (done) return;
      if (hostKey.failure) return hostKeyRefused();
      if (authStarted)
        return settle(() => resolve({ note: `${hp} closed the connection while logging in as ${plan.user}` }));
      fail(
        new SshError(`node ${node.name} (${hp}) closed the connection before the SSH handshake finished`, {
          kind: 'unreachable',
          node: node.name,
          host,
          port,
          user: plan.user,
          hint: transportHint('ECONNRESET', host, port),
        }),
      );
    });

    debug(`connecting to ${hp} as ${plan.user}`);
    try {
      client.connect(config);
    } catch (err) {
      fail(
        new SshError(`cannot connect to node ${node.name} (${hp}): ${(err as Error).message}`, {
          kind: 'config',
          node: node.name,
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
