// ssh-agent access: list its keys (to pick the one a users[].sshkey names) and offer only that key.
import ssh2 from 'ssh2';
import type { BaseAgent, ParsedKey, SignCallback, SigningRequestOptions } from 'ssh2';

export function openAgent(socketPath: string): BaseAgent {
  return new ssh2.OpenSSHAgent(socketPath) as BaseAgent;
}

/** The agent's public keys; [] when the agent cannot be reached (with the reason). */
export function agentKeys(agent: BaseAgent): Promise<{ keys: ParsedKey[]; problem?: string }> {
  return new Promise((resolve) => {
    agent.getIdentities((err, keys) => {
      if (err) resolve({ keys: [], problem: `ssh-agent: ${err.message}` });
      else resolve({ keys: (keys ?? []) as ParsedKey[] });
    });
  });
}

type PublicKeyArg = string | Buffer | ParsedKey;

/** An agent that offers only the keys `keep` accepts (OpenSSH's IdentitiesOnly for a chosen key). */
export class FilteredAgent extends ssh2.BaseAgent {
  constructor(
    private readonly inner: BaseAgent,
    private readonly keep: (key: ParsedKey) => boolean,
  ) {
    super();
  }

  override getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    this.inner.getIdentities((err, keys) => {
      if (err) return cb(err);
      cb(
        undefined,
        ((keys ?? []) as ParsedKey[]).filter((k) => this.keep(k)),
      );
    });
  }

  override sign(pubKey: PublicKeyArg, data: Buffer, options: SigningRequestOptions, cb?: SignCallback): void;
  override sign(pubKey: PublicKeyArg, data: Buffer, cb: SignCallback): void;
  override sign(
    pubKey: PublicKeyArg,
    data: Buffer,
    options: SigningRequestOptions | SignCallback,
    cb?: SignCallback,
  ): void {
    if (typeof options === 'function') this.inner.sign(pubKey, data, {}, options);
    else this.inner.sign(pubKey, data, options, cb);
  }
}
