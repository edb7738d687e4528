// Typed answers of remote_lib's verbs (see remote_lib/PROTOCOL.md).

/** What a node was started with; stored on the node and compared for drift. */
export interface AppliedSpec {
  cluster: string;
  node: string;
  role: 'head' | 'worker';
  ray: Record<string, unknown>;
  /** Workers: the head's GCS address they joined. */
  head_address?: string;
  python?: string;
}

export interface RemoteAnswer {
  ok: boolean;
  error?: string;
  hint?: string;
}

export interface PortCheck {
  name: string;
  port: number;
  in_use: boolean;
  by_this_cluster: boolean;
}

export interface ProbeAnswer extends RemoteAnswer {
  hostname: string;
  user: string;
  /** `unsafe`: another user could write it, or it is /, /tmp, /var/tmp, /dev/shm or the home itself. */
  storage: { path: string; writable: boolean; error?: string; unsafe?: boolean };
  python: { path: string; version: string };
  ray: { version: string; python: string; ray_bin?: string; token_auth?: boolean } | null;
  ray_error?: string;
  cpus: number;
  memory_bytes: number;
  shm_bytes: number;
  ports: PortCheck[];
  running: boolean;
  /** Whether this cluster's raylet runs on the node (absent from older libraries). */
  raylet?: boolean;
  applied: AppliedSpec | null;
  /** Head only: nodes the last `start` applied (for `stop` actions on dropped nodes). */
  members?: MembersRecord | null;
  /**
   * Head only, when token auth is set up: the cluster's token (masked by the engine): the one it runs
   * with, or, stopped, the one its next start reuses.
   */
  auth_token?: string | null;
  /** Head only, running, when the probe asked for `view`: the head's `status` answer. */
  view?: StatusAnswer;
}

/** `state/members.json` on the head, written by the engine after a successful start. */
export interface MembersRecord {
  cluster: string;
  nodes: ClusterMember[];
}

export interface ClusterMember {
  name: string;
  role: 'head' | 'worker';
  ssh_url: string;
  user?: string;
  storage?: string | null;
}

export interface StartAnswer extends RemoteAnswer {
  node_id?: string;
  ray_version?: string;
  auth_token?: string | null;
  auth?: string;
  log_tail?: string;
}

export interface ViewNode {
  node_id: string;
  node_ip: string;
  alive: boolean;
  name?: string;
  resources: Record<string, number>;
  labels: Record<string, string>;
}

export interface StatusAnswer extends RemoteAnswer {
  running: boolean;
  /** Whether this cluster's raylet runs on the node (absent from older libraries). */
  raylet?: boolean;
  applied: AppliedSpec | null;
  ray_version?: string;
  python_version?: string;
  node_id?: string;
  cluster?: ViewNode[];
}

export interface StopAnswer extends RemoteAnswer {
  was_running: boolean;
  killed: number;
  remaining: number;
}

export interface LockAnswer extends RemoteAnswer {
  acquired: boolean;
  holder?: { owner: string; since: string | number };
  /** A lock this call replaced because its holder is provably gone (its SSH session ended). */
  replaced_stale?: { owner: string; since: string | number; reason?: string };
}
