// Opening the one connection a run keeps to a node: the node as its ssh config entry says to reach
// it, through its jump hosts if it has any, logged in as the first of its users let in (login.ts).
import type { SshOptions, SshTarget } from './types';
import { SshConnection, type NodeConnection } from './connection';
import { applyHostSettings } from './ssh-config';
import { JumpHosts, fullChain } from './jump';
import { loginAny, type LoginContext } from './login';

export interface ConnectContext extends LoginContext {
  /** The run's jump host connections, shared by every node behind them (one per hop). */
  jumps?: JumpHosts;
}

export async function connectNode(
  target: SshTarget,
  runOpts: SshOptions,
  ctx: ConnectContext,
): Promise<NodeConnection> {
  // The target's own jump hosts, else its ssh config entry's ProxyJump, else the run's --proxy-jump.
  const { target: node, opts, proxyJump } = applyHostSettings(target, runOpts);
  const chain = fullChain(target.proxyJump ?? proxyJump ?? opts.proxyJump ?? [], opts);
  const jumps = chain.length ? (ctx.jumps ?? new JumpHosts()) : undefined;
  const tunnel = jumps ? () => jumps.tunnel(chain, node, opts, ctx) : undefined;
  const session = await loginAny(node, opts, ctx, tunnel);
  return new SshConnection(session.client, {
    node,
    user: session.user,
    authMethod: session.authMethod,
    methodsTried: session.methodsTried,
    hostKey: session.hostKey,
    reporter: ctx.reporter,
  });
}
