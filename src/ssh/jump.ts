// Jump hosts (OpenSSH's ProxyJump, `ssh -J`): a node is reached through a chain of up to three
// hops. Each hop is verified and logged in to like a node (its own host key check and login),
// then forwards one TCP stream to the next hop or to the node. One connection per hop (per chain
// prefix) is shared by every node behind it for the whole run.
import type { Client } from 'ssh2';
import type { Duplex } from 'node:stream';
import { SshError, hostPort } from './errors';
import { loginAny, type LoginContext } from './login';
import { applyHostSettings } from './ssh-config';
import { describeTarget, type JumpHop, type SshOptions, type SshTarget } from './types';

/** OpenSSH allows longer chains; three hops is where a deploy should stop and ask why. */
export const MAX_JUMP_HOPS = 3;

/** `[user@]host[:port]` as OpenSSH writes it (port only when not 22, brackets around IPv6 then). */
export function hopText(hop: JumpHop): string {
  const at = hop.port === 22 ? hop.host : hostPort(hop.host, hop.port);
  return `${hop.user ? `${hop.user}@` : ''}${at}`;
}

function hopTarget(hop: JumpHop): SshTarget {
  return { name: hopText(hop), host: hop.host, sshPort: hop.port, users: [], label: `jump host ${hopText(hop)}` };
}

/**
 * The chain as ssh runs it: `-J a,b` reaches `a` with `ssh a`, so a's own ProxyJump in the ssh config
 * (and its first hop's, and so on) comes first; the later hops are reached through the earlier ones,
 * so theirs do not count. A chain that grows beyond three hops, or loops, is named as the hop.
 */
export function fullChain(chain: readonly JumpHop[], opts: SshOptions): JumpHop[] {
  const out = [...chain];
  const seen = new Set<string>();
  while (out.length) {
    const first = out[0];
    const before = opts.hostSettings?.(first.host)?.proxyJump;
    if (!before?.length) break;
    const key = first.host.toLowerCase();
    const total = out.length + before.length;
    if (seen.has(key) || total > MAX_JUMP_HOPS) {
      throw new SshError(
        seen.has(key)
          ? `jump host ${hopText(first)}: its ProxyJump in the ssh config leads back to itself`
          : `jump host ${hopText(first)}: its ProxyJump in the ssh config (${before.map(hopText).join(',')}) makes a chain of ${total} hops; at most ${MAX_JUMP_HOPS} are supported`,
        {
          kind: 'config',
          node: hopText(first),
          host: first.host,
          port: first.port,
          hint: `shorten the chain: remove ProxyJump from Host ${first.host} in the ssh config, or name fewer hops in proxy_jump / --proxy-jump`,
        },
      );
    }
    seen.add(key);
    out.unshift(...before);
  }
  return out;
}

export class JumpHosts {
  private readonly hops = new Map<string, Promise<Client>>();
  private readonly open: Client[] = [];

  /** A stream to `to` through every hop of `chain` (hops opened once, then reused). */
  async tunnel(chain: readonly JumpHop[], to: SshTarget, opts: SshOptions, ctx: LoginContext): Promise<Duplex> {
    const last = await this.hop(chain, chain.length - 1, opts, ctx);
    return forward(last, chain[chain.length - 1], to, opts);
  }

  private hop(chain: readonly JumpHop[], i: number, opts: SshOptions, ctx: LoginContext): Promise<Client> {
    const key = chain
      .slice(0, i + 1)
      .map((h) => hopText(h))
      .join(',');
    let pending = this.hops.get(key);
    if (pending) return pending;
    // A hop's name may be a Host of the ssh config (its HostName, Port, User, keys).
    const { target, opts: configured } = applyHostSettings(hopTarget(chain[i]), opts);
    const tunnel =
      i === 0 ? undefined : async () => forward(await this.hop(chain, i - 1, opts, ctx), chain[i - 1], target, opts);
    // The user the hop names, else its ssh config User, else the run's default user.
    const hopOpts: SshOptions = { ...configured, defaultUser: chain[i].user ?? configured.defaultUser };
    pending = loginAny(target, hopOpts, ctx, tunnel).then((session) => {
      const client = session.client;
      ctx.reporter.debug(`[${target.name}] jump host ready (logged in as ${session.user})`);
      client.on('error', (err: Error) => ctx.reporter.debug(`[${target.name}] jump host connection: ${err.message}`));
      client.on('close', () => {
        if (this.hops.get(key) === pending) this.hops.delete(key);
      });
      this.open.push(client);
      return client;
    });
    // A hop that cannot be reached fails every node behind it with the same error, tried once.
    this.hops.set(key, pending);
    return pending;
  }

  close(): void {
    // Last hop first: the inner connections run through the outer ones.
    for (const client of this.open.reverse()) client.end();
    this.open.length = 0;
    this.hops.clear();
  }
}

/** Asks `through` (logged in to `hop`) for a TCP stream to `to` (a direct-tcpip channel). */
function forward(through: Client, hop: JumpHop, to: SshTarget, opts: SshOptions): Promise<Duplex> {
  const via = `jump host ${hopText(hop)}`;
  const dest = `${describeTarget(to)} (${hostPort(to.host, to.sshPort)})`;
  const error = (message: string, kind: SshError['kind'], hint: string, cause?: unknown) =>
    new SshError(message, {
      kind,
      node: hopText(hop),
      host: hop.host,
      port: hop.port,
      hint,
      ...(cause !== undefined ? { cause } : {}),
    });
  return new Promise<Duplex>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          error(
            `${via} did not open a connection to ${dest} within ${opts.connectTimeoutSec} s`,
            'timeout',
            `check that ${to.host} port ${to.sshPort} is reachable from the jump host (ssh -J ${hopText(hop)} -p ${to.sshPort} USER@${to.host})`,
          ),
        ),
      Math.max(1, opts.connectTimeoutSec) * 1000,
    );
    try {
      through.forwardOut('127.0.0.1', 0, to.host, to.sshPort, (err, stream) => {
        clearTimeout(timer);
        if (!err) return resolve(stream);
        const reason = (err as Error & { reason?: number }).reason;
        // SSH_OPEN_ADMINISTRATIVELY_PROHIBITED (1): sshd's AllowTcpForwarding no / PermitOpen.
        if (reason === 1 || /prohibited/i.test(err.message)) {
          return reject(
            error(
              `${via} refuses to forward connections (needed to reach ${dest}): ${err.message}`,
              'config',
              `allow TCP forwarding on the jump host for this user (AllowTcpForwarding yes, PermitOpen covering ${hostPort(to.host, to.sshPort)} in its sshd_config), or use a jump host that allows it`,
              err,
            ),
          );
        }
        reject(
          error(
            `${via} could not connect to ${dest}: ${err.message}`,
            'unreachable',
            `the address must be the one the jump host reaches it at: try ssh -J ${hopText(hop)} -p ${to.sshPort} USER@${to.host}`,
            err,
          ),
        );
      });
    } catch (err) {
      clearTimeout(timer);
      reject(
        error(
          `${via} is no longer connected (reaching ${dest}): ${(err as Error).message}`,
          'unreachable',
          'run again',
          err,
        ),
      );
    }
  });
}
