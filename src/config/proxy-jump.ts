// `proxy_jump` (node or ray_spec), `--proxy-jump`, the `proxy-jump` input: OpenSSH's ProxyJump form,
// `[user@]host[:port]`, comma-separated, the first hop first; "none" means a direct connection.
import { parseSshUrl } from './ssh-url';
import type { JumpHop } from './types';

/**
 * OpenSSH allows longer chains; three hops is where a deploy should stop and ask why. The SSH part
 * holds the same limit for chains an ssh config lengthens (src/ssh/jump.ts; a test keeps them equal).
 */
export const MAX_JUMP_HOPS = 3;

export type ProxyJumpResult = { ok: true; hops: JumpHop[] } | { ok: false; message: string; hint: string };

const EXAMPLE = 'e.g. "admin@bastion.example.com:22" or "jump1,admin@jump2:2222"';

export function parseProxyJump(text: string): ProxyJumpResult {
  const value = text.trim();
  if (value === '' || value.toLowerCase() === 'none') return { ok: true, hops: [] };
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length > MAX_JUMP_HOPS) {
    return {
      ok: false,
      message: `proxy_jump has ${parts.length} hops; at most ${MAX_JUMP_HOPS} are supported`,
      hint: `shorten the chain to ${MAX_JUMP_HOPS} jump hosts (reach the inner ones from a closer bastion, or run the deploy from inside the network)`,
    };
  }
  const hops: JumpHop[] = [];
  for (const [i, part] of parts.entries()) {
    const which = parts.length > 1 ? `hop ${i + 1} ("${part}")` : `"${part}"`;
    if (part === '')
      return {
        ok: false,
        message: `proxy_jump has an empty hop`,
        hint: `write hosts separated by single commas, ${EXAMPLE}`,
      };
    if (/^ssh:\/\//i.test(part))
      return { ok: false, message: `proxy_jump ${which}: write [user@]host[:port], not an ssh:// URL`, hint: EXAMPLE };
    const at = part.lastIndexOf('@');
    const user = at >= 0 ? part.slice(0, at) : undefined;
    if (user !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(user))
      return { ok: false, message: `proxy_jump ${which}: "${user}" is not a login name`, hint: EXAMPLE };
    const endpoint = parseSshUrl(at >= 0 ? part.slice(at + 1) : part);
    if (!endpoint.ok)
      return {
        ok: false,
        message: `proxy_jump ${which}: ${endpoint.message.replace(/^ssh_url\b/, 'the host')}`,
        hint: endpoint.hint,
      };
    hops.push({ ...(user ? { user } : {}), host: endpoint.host, port: endpoint.port });
  }
  return { ok: true, hops };
}
