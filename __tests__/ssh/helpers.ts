// Shared bits for src/ssh unit tests: a node, a recording reporter.
import type { NodeSpec, UserSpec } from '../../src/config/types';
import type { Reporter } from '../../src/engine/types';

export function testNode(extra: Partial<NodeSpec> = {}): NodeSpec {
  return {
    name: 'ray-head',
    role: 'head',
    sshUrl: '10.0.0.5:22',
    host: '10.0.0.5',
    sshPort: 22,
    ray: {},
    storage: { type: 'local' },
    users: [],
    index: 0,
    pos: { line: 3, col: 5 },
    ...extra,
  };
}

export function testUser(userid: string, cred: { password?: string; sshkey?: string }): UserSpec {
  return { userid, ...cred, pos: { line: 9, col: 9 } };
}

export interface RecordingReporter extends Reporter {
  warnings: string[];
  debugs: string[];
  secrets: string[];
}

export function recordingReporter(): RecordingReporter {
  const r: RecordingReporter = {
    warnings: [],
    debugs: [],
    secrets: [],
    node: () => undefined,
    info: () => undefined,
    warn: (m) => r.warnings.push(m),
    debug: (m) => r.debugs.push(m),
    secret: (v) => r.secrets.push(v),
  };
  return r;
}
