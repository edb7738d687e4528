// The rules `nokube ray firewall` prints: the exact text per format for a 3-node config, and an
// nftables part that `nft -c -f` accepts (when nft is installed and we may make a network namespace).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { firewallPlan } from '../../src/engine/decisions/firewall';
import { renderFirewall, FIREWALL_FORMATS } from '../../src/render/firewall';

const PINNED = [
  'ray_spec:',
  '  cluster_name: prod',
  '  ports:',
  '    node_manager_port: 8076',
  '    object_manager_port: 8077',
  '    runtime_env_agent_port: 8078',
  '    dashboard_agent_grpc_port: 8079',
  '    dashboard_agent_listen_port: 52365',
  '    metrics_export_port: 8080',
  '    min_worker_port: 11000',
  '    max_worker_port: 11100',
  'nodes:',
  '  - {ssh_url: "10.0.0.11:22", name: ray-head, role: head}',
  '  - {ssh_url: "10.0.0.12:22", name: ray-worker-1, role: worker}',
  '  - {ssh_url: "10.0.0.13:2222", name: ray-worker-2, role: worker}',
];

function plan(lines: string[], deployer?: string) {
  const { config, diagnostics } = parseConfig(lines.join('\n'), 'ray-config.yaml', { defaultUser: 'u' });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return firewallPlan(config!, deployer);
}

/** One node's part (the header and that node), as `--node NAME` prints it. */
function onePart(lines: string[], node: string, format: (typeof FIREWALL_FORMATS)[number], deployer?: string) {
  const p = plan(lines, deployer);
  return renderFirewall({ ...p, nodes: p.nodes.filter((n) => n.node === node) }, format);
}

describe('firewall rules with every port pinned', () => {
  it('the table: each node, its ports, from whom, for what', () => {
    expect(renderFirewall(plan(PINNED), 'table')).toMatchInlineSnapshot(`
      "Firewall rules for Ray cluster prod: TCP ports each node must accept, from the other nodes and from the deployer.
      Print them for a firewall with --format ufw|firewalld|nftables|iptables; run each node's part on that node.
      The deployer's ports (SSH, dashboard, Ray Client) are open to anyone: give --deployer ADDRESS[/PREFIX] to narrow them.
      The head also listens on 44217 and 44227 (the autoscaler's and the dashboard's Prometheus metrics): no node needs them; open them only to a host that scrapes them.

      node ray-head (head, 10.0.0.11); the other nodes: ray-worker-1 10.0.0.12, ray-worker-2 10.0.0.13
        TCP PORT     FROM                            FOR
        22           anywhere (the deployer, users)  SSH
        6379         the other nodes                 GCS (gcs_port)
        8265         anywhere (the deployer, users)  dashboard and job API (dashboard_port)
        10001        anywhere (the deployer, users)  Ray Client (port)
        8076         the other nodes                 node manager (node_manager_port)
        8077         the other nodes                 object manager (object_manager_port)
        8078         the other nodes                 runtime env agent (runtime_env_agent_port)
        52365        the other nodes                 dashboard agent HTTP (dashboard_agent_listen_port)
        8079         the other nodes                 dashboard agent gRPC (dashboard_agent_grpc_port)
        8080         the other nodes                 metrics export (metrics_export_port)
        11000-11100  the other nodes                 worker processes (min_worker_port..max_worker_port)

      node ray-worker-1 (worker, 10.0.0.12); the other nodes: ray-head 10.0.0.11, ray-worker-2 10.0.0.13
        TCP PORT     FROM                            FOR
        22           anywhere (the deployer, users)  SSH
        8076         the other nodes                 node manager (node_manager_port)
        8077         the other nodes                 object manager (object_manager_port)
        8078         the other nodes                 runtime env agent (runtime_env_agent_port)
        52365        the other nodes                 dashboard agent HTTP (dashboard_agent_listen_port)
        8079         the other nodes                 dashboard agent gRPC (dashboard_agent_grpc_port)
        8080         the other nodes                 metrics export (metrics_export_port)
        11000-11100  the other nodes                 worker processes (min_worker_port..max_worker_port)

      node ray-worker-2 (worker, 10.0.0.13); the other nodes: ray-head 10.0.0.11, ray-worker-1 10.0.0.12
        TCP PORT     FROM                            FOR
        2222         anywhere (the deployer, users)  SSH
        8076         the other nodes                 node manager (node_manager_port)
        8077         the other nodes                 object manager (object_manager_port)
        8078         the other nodes                 runtime env agent (runtime_env_agent_port)
        52365        the other nodes                 dashboard agent HTTP (dashboard_agent_listen_port)
        8079         the other nodes                 dashboard agent gRPC (dashboard_agent_grpc_port)
        8080         the other nodes                 metrics export (metrics_export_port)
        11000-11100  the other nodes                 worker processes (min_worker_port..max_worker_port)
      "
    `);
  });

  it('ufw', () => {
    expect(onePart(PINNED, 'ray-worker-2', 'ufw', '203.0.113.0/24')).toMatchInlineSnapshot(`
      "# Firewall rules for Ray cluster prod: TCP ports each node must accept, from the other nodes and from the deployer.
      # Run each node's part on that node, as root.
      # The deployer and Ray's users connect from 203.0.113.0/24.
      # The head also listens on 44217 and 44227 (the autoscaler's and the dashboard's Prometheus metrics): no node needs them; open them only to a host that scrapes them.

      # node ray-worker-2 (worker, 10.0.0.13); the other nodes: ray-head 10.0.0.11, ray-worker-1 10.0.0.12
      ufw allow proto tcp from 203.0.113.0/24 to any port 2222 comment 'ray SSH'
      ufw allow proto tcp from 10.0.0.11 to any port 8076 comment 'ray node manager (node_manager_port)'
      ufw allow proto tcp from 10.0.0.12 to any port 8076 comment 'ray node manager (node_manager_port)'
      ufw allow proto tcp from 10.0.0.11 to any port 8077 comment 'ray object manager (object_manager_port)'
      ufw allow proto tcp from 10.0.0.12 to any port 8077 comment 'ray object manager (object_manager_port)'
      ufw allow proto tcp from 10.0.0.11 to any port 8078 comment 'ray runtime env agent (runtime_env_agent_port)'
      ufw allow proto tcp from 10.0.0.12 to any port 8078 comment 'ray runtime env agent (runtime_env_agent_port)'
      ufw allow proto tcp from 10.0.0.11 to any port 52365 comment 'ray dashboard agent HTTP (dashboard_agent_listen_port)'
      ufw allow proto tcp from 10.0.0.12 to any port 52365 comment 'ray dashboard agent HTTP (dashboard_agent_listen_port)'
      ufw allow proto tcp from 10.0.0.11 to any port 8079 comment 'ray dashboard agent gRPC (dashboard_agent_grpc_port)'
      ufw allow proto tcp from 10.0.0.12 to any port 8079 comment 'ray dashboard agent gRPC (dashboard_agent_grpc_port)'
      ufw allow proto tcp from 10.0.0.11 to any port 8080 comment 'ray metrics export (metrics_export_port)'
      ufw allow proto tcp from 10.0.0.12 to any port 8080 comment 'ray metrics export (metrics_export_port)'
      ufw allow proto tcp from 10.0.0.11 to any port 11000:11100 comment 'ray worker processes (min_worker_port..max_worker_port)'
      ufw allow proto tcp from 10.0.0.12 to any port 11000:11100 comment 'ray worker processes (min_worker_port..max_worker_port)'
      "
    `);
  });

  it('firewalld', () => {
    expect(onePart(PINNED, 'ray-head', 'firewalld', '203.0.113.0/24')).toMatchInlineSnapshot(`
      "# Firewall rules for Ray cluster prod: TCP ports each node must accept, from the other nodes and from the deployer.
      # Run each node's part on that node, as root.
      # The deployer and Ray's users connect from 203.0.113.0/24.
      # The head also listens on 44217 and 44227 (the autoscaler's and the dashboard's Prometheus metrics): no node needs them; open them only to a host that scrapes them.

      # node ray-head (head, 10.0.0.11); the other nodes: ray-worker-1 10.0.0.12, ray-worker-2 10.0.0.13
      # ray SSH
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="203.0.113.0/24" port port="22" protocol="tcp" accept'
      # ray GCS (gcs_port)
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.12" port port="6379" protocol="tcp" accept'
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.13" port port="6379" protocol="tcp" accept'
      # ray dashboard and job API (dashboard_port)
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="203.0.113.0/24" port port="8265" protocol="tcp" accept'
      # ray Ray Client (port)
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="203.0.113.0/24" port port="10001" protocol="tcp" accept'
      # ray node manager (node_manager_port)
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.12" port port="8076" protocol="tcp" accept'
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.13" port port="8076" protocol="tcp" accept'
      # ray object manager (object_manager_port)
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.12" port port="8077" protocol="tcp" accept'
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.13" port port="8077" protocol="tcp" accept'
      # ray runtime env agent (runtime_env_agent_port)
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.12" port port="8078" protocol="tcp" accept'
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.13" port port="8078" protocol="tcp" accept'
      # ray dashboard agent HTTP (dashboard_agent_listen_port)
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.12" port port="52365" protocol="tcp" accept'
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.13" port port="52365" protocol="tcp" accept'
      # ray dashboard agent gRPC (dashboard_agent_grpc_port)
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.12" port port="8079" protocol="tcp" accept'
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.13" port port="8079" protocol="tcp" accept'
      # ray metrics export (metrics_export_port)
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.12" port port="8080" protocol="tcp" accept'
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.13" port port="8080" protocol="tcp" accept'
      # ray worker processes (min_worker_port..max_worker_port)
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.12" port port="11000-11100" protocol="tcp" accept'
      firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="10.0.0.13" port port="11000-11100" protocol="tcp" accept'
      firewall-cmd --reload
      "
    `);
  });

  it('nftables', () => {
    expect(onePart(PINNED, 'ray-head', 'nftables', '203.0.113.0/24')).toMatchInlineSnapshot(`
      "# Firewall rules for Ray cluster prod: TCP ports each node must accept, from the other nodes and from the deployer.
      # Load each node's part on that node: nft -f FILE (accept rules at the top of table inet filter's input chain).
      # The deployer and Ray's users connect from 203.0.113.0/24.
      # The head also listens on 44217 and 44227 (the autoscaler's and the dashboard's Prometheus metrics): no node needs them; open them only to a host that scrapes them.

      # node ray-head (head, 10.0.0.11); the other nodes: ray-worker-1 10.0.0.12, ray-worker-2 10.0.0.13
      add table inet filter
      add chain inet filter input { type filter hook input priority filter; }
      insert rule inet filter input iif "lo" accept comment "ray: this node to itself"
      insert rule inet filter input ct state established,related accept comment "ray: replies"
      insert rule inet filter input ip saddr 203.0.113.0/24 tcp dport 22 accept comment "ray SSH"
      insert rule inet filter input ip saddr { 10.0.0.12, 10.0.0.13 } tcp dport 6379 accept comment "ray GCS (gcs_port)"
      insert rule inet filter input ip saddr 203.0.113.0/24 tcp dport 8265 accept comment "ray dashboard and job API (dashboard_port)"
      insert rule inet filter input ip saddr 203.0.113.0/24 tcp dport 10001 accept comment "ray Ray Client (port)"
      insert rule inet filter input ip saddr { 10.0.0.12, 10.0.0.13 } tcp dport 8076 accept comment "ray node manager (node_manager_port)"
      insert rule inet filter input ip saddr { 10.0.0.12, 10.0.0.13 } tcp dport 8077 accept comment "ray object manager (object_manager_port)"
      insert rule inet filter input ip saddr { 10.0.0.12, 10.0.0.13 } tcp dport 8078 accept comment "ray runtime env agent (runtime_env_agent_port)"
      insert rule inet filter input ip saddr { 10.0.0.12, 10.0.0.13 } tcp dport 52365 accept comment "ray dashboard agent HTTP (dashboard_agent_listen_port)"
      insert rule inet filter input ip saddr { 10.0.0.12, 10.0.0.13 } tcp dport 8079 accept comment "ray dashboard agent gRPC (dashboard_agent_grpc_port)"
      insert rule inet filter input ip saddr { 10.0.0.12, 10.0.0.13 } tcp dport 8080 accept comment "ray metrics export (metrics_export_port)"
      insert rule inet filter input ip saddr { 10.0.0.12, 10.0.0.13 } tcp dport 11000-11100 accept comment "ray worker processes (min_worker_port..max_worker_port)"
      "
    `);
  });

  it('iptables', () => {
    expect(onePart(PINNED, 'ray-worker-1', 'iptables')).toMatchInlineSnapshot(`
      "# Firewall rules for Ray cluster prod: TCP ports each node must accept, from the other nodes and from the deployer.
      # Run each node's part on that node, as root.
      # The deployer's ports (SSH, dashboard, Ray Client) are open to anyone: give --deployer ADDRESS[/PREFIX] to narrow them.
      # The head also listens on 44217 and 44227 (the autoscaler's and the dashboard's Prometheus metrics): no node needs them; open them only to a host that scrapes them.

      # node ray-worker-1 (worker, 10.0.0.12); the other nodes: ray-head 10.0.0.11, ray-worker-2 10.0.0.13
      iptables -I INPUT -i lo -m comment --comment "ray: this node to itself" -j ACCEPT
      iptables -I INPUT -m conntrack --ctstate ESTABLISHED,RELATED -m comment --comment "ray: replies" -j ACCEPT
      ip6tables -I INPUT -i lo -m comment --comment "ray: this node to itself" -j ACCEPT
      ip6tables -I INPUT -m conntrack --ctstate ESTABLISHED,RELATED -m comment --comment "ray: replies" -j ACCEPT
      iptables -I INPUT -p tcp --dport 22 -m comment --comment "ray SSH" -j ACCEPT
      ip6tables -I INPUT -p tcp --dport 22 -m comment --comment "ray SSH" -j ACCEPT
      iptables -I INPUT -s 10.0.0.11 -p tcp --dport 8076 -m comment --comment "ray node manager (node_manager_port)" -j ACCEPT
      iptables -I INPUT -s 10.0.0.13 -p tcp --dport 8076 -m comment --comment "ray node manager (node_manager_port)" -j ACCEPT
      iptables -I INPUT -s 10.0.0.11 -p tcp --dport 8077 -m comment --comment "ray object manager (object_manager_port)" -j ACCEPT
      iptables -I INPUT -s 10.0.0.13 -p tcp --dport 8077 -m comment --comment "ray object manager (object_manager_port)" -j ACCEPT
      iptables -I INPUT -s 10.0.0.11 -p tcp --dport 8078 -m comment --comment "ray runtime env agent (runtime_env_agent_port)" -j ACCEPT
      iptables -I INPUT -s 10.0.0.13 -p tcp --dport 8078 -m comment --comment "ray runtime env agent (runtime_env_agent_port)" -j ACCEPT
      iptables -I INPUT -s 10.0.0.11 -p tcp --dport 52365 -m comment --comment "ray dashboard agent HTTP (dashboard_agent_listen_port)" -j ACCEPT
      iptables -I INPUT -s 10.0.0.13 -p tcp --dport 52365 -m comment --comment "ray dashboard agent HTTP (dashboard_agent_listen_port)" -j ACCEPT
      iptables -I INPUT -s 10.0.0.11 -p tcp --dport 8079 -m comment --comment "ray dashboard agent gRPC (dashboard_agent_grpc_port)" -j ACCEPT
      iptables -I INPUT -s 10.0.0.13 -p tcp --dport 8079 -m comment --comment "ray dashboard agent gRPC (dashboard_agent_grpc_port)" -j ACCEPT
      iptables -I INPUT -s 10.0.0.11 -p tcp --dport 8080 -m comment --comment "ray metrics export (metrics_export_port)" -j ACCEPT
      iptables -I INPUT -s 10.0.0.13 -p tcp --dport 8080 -m comment --comment "ray metrics export (metrics_export_port)" -j ACCEPT
      iptables -I INPUT -s 10.0.0.11 -p tcp --dport 11000:11100 -m comment --comment "ray worker processes (min_worker_port..max_worker_port)" -j ACCEPT
      iptables -I INPUT -s 10.0.0.13 -p tcp --dport 11000:11100 -m comment --comment "ray worker processes (min_worker_port..max_worker_port)" -j ACCEPT
      "
    `);
  });
});

describe('firewall rules with ports left to Ray', () => {
  const RANDOM = [
    'nodes:',
    PINNED[12]!,
    PINNED[13]!,
    '  - {ssh_url: "[fd00::13]:22", name: ray-worker-2, role: worker}',
  ];

  it('says which are not pinned and opens the ranges Ray picks from to the other nodes', () => {
    const p = plan(RANDOM);
    expect(p.unpinned).toEqual([
      'node_manager_port',
      'object_manager_port',
      'runtime_env_agent_port',
      'dashboard_agent_grpc_port',
      'metrics_export_port',
      'min_worker_port',
      'max_worker_port',
    ]);
    expect(onePart(RANDOM, 'ray-worker-1', 'nftables')).toMatchInlineSnapshot(`
      "# Firewall rules for Ray cluster default: TCP ports each node must accept, from the other nodes and from the deployer.
      # Load each node's part on that node: nft -f FILE (accept rules at the top of table inet filter's input chain).
      # The deployer's ports (SSH, dashboard, Ray Client) are open to anyone: give --deployer ADDRESS[/PREFIX] to narrow them.
      # The head also listens on 44217 and 44227 (the autoscaler's and the dashboard's Prometheus metrics): no node needs them; open them only to a host that scrapes them.
      # Not pinned in the config: node_manager_port, object_manager_port, runtime_env_agent_port, dashboard_agent_grpc_port, metrics_export_port, min_worker_port, max_worker_port. Ray picks these at random (workers from Ray's default range 10002-19999, the others from Linux's ephemeral ports 32768-60999), so these rules open those whole ranges to the other nodes;
      # pin them in ray_spec.ports (or a node's ray_config) for narrower rules.

      # node ray-worker-1 (worker, 10.0.0.12); the other nodes: ray-head 10.0.0.11, ray-worker-2 fd00::13
      add table inet filter
      add chain inet filter input { type filter hook input priority filter; }
      insert rule inet filter input iif "lo" accept comment "ray: this node to itself"
      insert rule inet filter input ct state established,related accept comment "ray: replies"
      insert rule inet filter input tcp dport 22 accept comment "ray SSH"
      insert rule inet filter input ip saddr 10.0.0.11 tcp dport 52365 accept comment "ray dashboard agent HTTP (dashboard_agent_listen_port), Ray default"
      insert rule inet filter input ip6 saddr fd00::13 tcp dport 52365 accept comment "ray dashboard agent HTTP (dashboard_agent_listen_port), Ray default"
      insert rule inet filter input ip saddr 10.0.0.11 tcp dport 10002-19999 accept comment "ray worker processes (min_worker_port..max_worker_port, Ray default)"
      insert rule inet filter input ip6 saddr fd00::13 tcp dport 10002-19999 accept comment "ray worker processes (min_worker_port..max_worker_port, Ray default)"
      insert rule inet filter input ip saddr 10.0.0.11 tcp dport 32768-60999 accept comment "ray ports Ray picks at random (not pinned)"
      insert rule inet filter input ip6 saddr fd00::13 tcp dport 32768-60999 accept comment "ray ports Ray picks at random (not pinned)"
      "
    `);
  });

  it("the worker range moves off a head port inside Ray's default range, as ray start is told", () => {
    const head = plan([
      'nodes:',
      '  - {ssh_url: "10.0.0.11:22", name: h, role: head, ray_config: {port: 10002}}',
      PINNED[13]!,
    ]);
    expect(head.nodes[0]!.rules.find((r) => r.what.startsWith('worker'))!.ports).toEqual([10003, 19999]);
  });
});

// nft -c checks a script against the kernel without applying it; a private network namespace keeps
// the check away from this machine's own rules.
const canCheck = spawnSync('nft', ['--version']).status === 0 && spawnSync('unshare', ['--net', 'true']).status === 0;

describe.skipIf(!canCheck)('nft -c -f', () => {
  it("accepts every node's nftables part, pinned or not, IPv4 and IPv6", () => {
    const dir = mkdtempSync(join(tmpdir(), 'nokube-nft-'));
    const configs = [PINNED, ['nodes:', PINNED[12]!, '  - {ssh_url: "[fd00::13]:22", name: w6, role: worker}']];
    for (const [i, lines] of configs.entries()) {
      for (const deployer of [undefined, '203.0.113.0/24', '2001:db8::/32']) {
        const p = plan(lines, deployer);
        for (const node of p.nodes) {
          const file = join(dir, `${i}-${node.node}.nft`);
          writeFileSync(file, renderFirewall({ ...p, nodes: [node] }, 'nftables'));
          execFileSync('unshare', ['--net', 'nft', '-c', '-f', file], { stdio: 'pipe' });
        }
      }
    }
  });
});
