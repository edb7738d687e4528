// Hand-built cluster configs for the engine's pure parts (independent of the parser).
import { withHeadDefaults } from '../../src/config/model';
import { DEFAULT_ROLLOUT, type ClusterConfig, type NodeSpec } from '../../src/config/types';

export function node(name: string, role: 'head' | 'worker', host: string, ray: NodeSpec['ray'] = {}): NodeSpec {
  return {
    name,
    role,
    sshUrl: `${host}:22`,
    host,
    sshPort: 22,
    ray,
    storage: { type: 'local' },
    users: [],
    index: 0,
    pos: { line: 1, col: 1 },
  };
}

export function cluster(nodes: NodeSpec[], extra: Partial<ClusterConfig> = {}): ClusterConfig {
  nodes.forEach((n, i) => (n.index = i));
  const head = nodes.find((n) => n.role === 'head')!;
  // As the parser's model does: the head's ports always filled in.
  head.ray = withHeadDefaults(head.ray, extra.dashboardPort ?? 8265);
  return {
    file: 'ray-config.yaml',
    clusterName: 'default',
    dashboardPort: 8265,
    maxWorkers: 10,
    rollout: DEFAULT_ROLLOUT,
    restart: 'always',
    keepSessions: 5,
    logRotation: { maxBytes: 512 * 1024 * 1024, backupCount: 5 },
    keepDeadWorkerLogs: 1000,
    nodes,
    head,
    workers: nodes.filter((n) => n.role === 'worker'),
    ...extra,
  };
}

export function threeNodes(workerCpus = 2): ClusterConfig {
  return cluster([
    node('head', 'head', '10.0.0.1', { port: 10001, numCpus: 1 }),
    node('w1', 'worker', '10.0.0.2', { numCpus: workerCpus }),
    node('w2', 'worker', '10.0.0.3', { numCpus: workerCpus }),
  ]);
}
