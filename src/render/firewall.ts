// The firewall rules of a FirewallPlan as text (pure): a readable table, or commands for ufw, firewalld,
// nftables and iptables. Each node's part is what to run (or load) on that node; an nftables part is a
// script for `nft -f` that inserts accept rules at the top of the input chain of `table inet filter`
// (Debian's own table: created when missing, its policy and rules left as they are).
import type { FirewallPlan, FirewallRule, NodeFirewall } from '../engine/types';
import { escapeHtml, escapeText } from './escape';
import { markdownTable } from './markdown';
import { textTable } from './terminal';

export const FIREWALL_FORMATS = ['table', 'ufw', 'firewalld', 'nftables', 'iptables'] as const;
export type FirewallFormat = (typeof FIREWALL_FORMATS)[number];

export function renderFirewall(plan: FirewallPlan, format: FirewallFormat): string {
  const parts = [...header(plan, format), ...plan.nodes.flatMap((n) => ['', ...RENDER[format](n, plan)])];
  return parts.join('\n') + '\n';
}

const portText = ([a, b]: FirewallRule['ports'], sep = '-') => (a === b ? `${a}` : `${a}${sep}${b}`);
const isV6 = (address: string) => address.includes(':');

/** Who a rule lets in: the other nodes' addresses, or the deployer (undefined = anywhere). */
function sources(rule: FirewallRule, node: NodeFirewall, plan: FirewallPlan): string[] | undefined {
  if (rule.from === 'nodes') return node.peers.map((p) => p.address);
  return plan.deployer === undefined ? undefined : [plan.deployer];
}

function header(plan: FirewallPlan, format: FirewallFormat): string[] {
  const c = format === 'table' ? '' : '# ';
  const lines = [
    `${c}Firewall rules for Ray cluster ${plan.cluster}: TCP ports each node must accept, from the other nodes and from the deployer.`,
    format === 'table'
      ? `${c}Print them for a firewall with --format ufw|firewalld|nftables|iptables; run each node's part on that node.`
      : format === 'nftables'
        ? `${c}Load each node's part on that node: nft -f FILE (accept rules at the top of table inet filter's input chain).`
        : `${c}Run each node's part on that node, as root.`,
    plan.deployer === undefined
      ? `${c}The deployer's ports (SSH, dashboard, Ray Client) are open to anyone: give --deployer ADDRESS[/PREFIX] to narrow them.`
      : `${c}The deployer and Ray's users connect from ${plan.deployer}.`,
  ];
  lines.push(
    `${c}The head also listens on ${plan.headMetricsPorts.join(' and ')} (the autoscaler's and the dashboard's Prometheus metrics): no node needs them; open them only to a host that scrapes them.`,
  );
  if (plan.unpinned.length) {
    lines.push(
      `${c}Not pinned in the config: ${plan.unpinned.join(', ')}. Ray picks these at random (workers from Ray's default range ${portText(plan.randomRanges.workers)}, the others from Linux's ephemeral ports ${portText(plan.randomRanges.others)}), so these rules open those whole ranges to the other nodes;`,
      `${c}pin them in ray_spec.ports (or a node's ray_config) for narrower rules.`,
    );
  }
  return lines;
}

function nodeTitle(node: NodeFirewall, c = '# '): string {
  return `${c}node ${node.node} (${node.role}, ${node.address})${node.peers.length ? `; the other nodes: ${node.peers.map((p) => `${p.node} ${p.address}`).join(', ')}` : ''}`;
}

const RENDER: Record<FirewallFormat, (node: NodeFirewall, plan: FirewallPlan) => string[]> = {
  table(node, plan) {
    const rows = node.rules.map((r) => [
      portText(r.ports),
      r.from === 'nodes' ? 'the other nodes' : (plan.deployer ?? 'anywhere (the deployer, users)'),
      r.what,
    ]);
    return [nodeTitle(node, ''), ...textTable(['tcp port', 'from', 'for'], rows)];
  },

  ufw(node, plan) {
    const lines = [nodeTitle(node)];
    for (const rule of node.rules) {
      const port = portText(rule.ports, ':');
      for (const from of sources(rule, node, plan) ?? ['any'])
        lines.push(`ufw allow proto tcp from ${from} to any port ${port} comment '${comment(rule)}'`);
    }
    return lines;
  },

  firewalld(node, plan) {
    const lines = [nodeTitle(node)];
    for (const rule of node.rules) {
      lines.push(`# ${comment(rule)}`);
      const port = portText(rule.ports);
      const from = sources(rule, node, plan);
      if (from === undefined) lines.push(`firewall-cmd --permanent --add-port=${port}/tcp`);
      for (const address of from ?? [])
        lines.push(
          `firewall-cmd --permanent --add-rich-rule='rule family="${isV6(address) ? 'ipv6' : 'ipv4'}" source address="${address}" port port="${port}" protocol="tcp" accept'`,
        );
    }
    lines.push('firewall-cmd --reload');
    return lines;
  },

  nftables(node, plan) {
    const lines = [
      nodeTitle(node),
      'add table inet filter',
      'add chain inet filter input { type filter hook input priority filter; }',
      // under a default-drop policy: the node's own components talk over loopback, and replies come back
      'insert rule inet filter input iif "lo" accept comment "ray: this node to itself"',
      'insert rule inet filter input ct state established,related accept comment "ray: replies"',
    ];
    for (const rule of node.rules) {
      const port = portText(rule.ports);
      const from = sources(rule, node, plan);
      const tail = `tcp dport ${port} accept comment "${comment(rule)}"`;
      if (from === undefined) {
        lines.push(`insert rule inet filter input ${tail}`);
        continue;
      }
      // one rule per address family: `ip saddr` takes IPv4 (a host name is resolved to it at load time)
      for (const [family, list] of [
        ['ip', from.filter((a) => !isV6(a))],
        ['ip6', from.filter(isV6)],
      ] as const) {
        if (list.length === 0) continue;
        const set = list.length === 1 ? list[0]! : `{ ${list.join(', ')} }`;
        lines.push(`insert rule inet filter input ${family} saddr ${set} ${tail}`);
      }
    }
    return lines;
  },

  iptables(node, plan) {
    const lines = [nodeTitle(node)];
    for (const tool of ['iptables', 'ip6tables'])
      lines.push(
        `${tool} -I INPUT -i lo -m comment --comment "ray: this node to itself" -j ACCEPT`,
        `${tool} -I INPUT -m conntrack --ctstate ESTABLISHED,RELATED -m comment --comment "ray: replies" -j ACCEPT`,
      );
    for (const rule of node.rules) {
      const port = portText(rule.ports, ':');
      const tail = `-p tcp --dport ${port} -m comment --comment "${comment(rule)}" -j ACCEPT`;
      const from = sources(rule, node, plan);
      if (from === undefined) lines.push(`iptables -I INPUT ${tail}`, `ip6tables -I INPUT ${tail}`);
      for (const address of from ?? [])
        lines.push(`${isV6(address) ? 'ip6tables' : 'iptables'} -I INPUT -s ${address} ${tail}`);
    }
    return lines;
  },
};

/** A rule's comment: what it is for, in characters every firewall's comment and a shell quote take. */
function comment(rule: FirewallRule): string {
  return `ray ${rule.what}`.replace(/[^A-Za-z0-9 ._,:()/-]/g, '').slice(0, 120);
}

/** The job summary's view (`command: firewall`): a table per node, each firewall's commands folded below it. */
export function renderFirewallMarkdown(plan: FirewallPlan): string {
  const parts = [
    `## nokube ray firewall: ${escapeText(plan.cluster)}`,
    header(plan, 'table').map(escapeText).join('<br>\n'),
  ];
  for (const node of plan.nodes) {
    const rows = node.rules.map((r) => [
      portText(r.ports),
      r.from === 'nodes' ? 'the other nodes' : (plan.deployer ?? 'anywhere (the deployer, users)'),
      r.what,
    ]);
    parts.push(`### ${escapeText(nodeTitle(node, ''))}`, markdownTable(['tcp port', 'from', 'for'], rows));
    for (const format of FIREWALL_FORMATS.filter((f) => f !== 'table'))
      parts.push(
        `<details><summary>${format}</summary>\n\n<pre>${escapeHtml(RENDER[format](node, plan).join('\n'))}</pre>\n</details>`,
      );
  }
  return parts.join('\n\n') + '\n';
}
