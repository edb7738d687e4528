// A package index or links page over plain http (ray_spec.install.index_url / find_links). pip
// refuses one unless its host is trusted; the tool passes --trusted-host so a mirror on a private
// network works, and says at validate time what that costs: what pip downloads there runs on every node.
import type { Findings } from './diagnostics';
import { asMap } from './plain';

const KEYS = ['index_url', 'find_links'] as const;

export function checkPackageIndex(raySpec: Record<string, unknown> | undefined, findings: Findings): void {
  const install = asMap(raySpec?.install);
  if (!install) return;
  for (const key of KEYS) {
    const url = install[key];
    if (typeof url !== 'string') continue;
    // an [IPv6] host first: its colons are not a port
    const m = /^http:\/\/(\[[^\]]+\]|[^/:?#]+)/i.exec(url.trim());
    if (!m) continue;
    const host = m[1];
    findings.warning(
      `ray_spec.install.${key}`,
      `${key} is plain http: pip is given --trusted-host ${host}, so anyone on the network between the nodes and ` +
        `${host} can replace the packages it installs, and their code then runs on every node as the login user`,
      {
        hint:
          `serve it over https (${key}: "https://${url.trim().slice('http://'.length)}")` +
          (key === 'find_links' ? ', or copy the wheels to the nodes (find_links: /path/on/the/nodes)' : ''),
      },
    );
  }
}
