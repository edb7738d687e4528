// What `init` proposes for each node and for ray_spec, from what it read on the hosts. Pure.
import { DEFAULT_CLIENT_PORT, DEFAULT_DASHBOARD_PORT } from '../../config/types';
import type { HostFacts, InitRaySpec } from '../types';

/** The Ray version nokube is tested with: proposed when no host has Ray yet. */
export const TESTED_RAY_VERSION = '2.60.0';

/**
 * A node's ray_config: the head's Ray Client port and dashboard as the design note has them, num_cpus
 * (and num_gpus when there are GPUs) as found on the host. object_store_memory is left to Ray, which
 * sizes it from the memory and /dev/shm it finds when it starts (the comment shows both).
 */
export function proposeRayConfig(role: 'head' | 'worker', facts: HostFacts): Record<string, number> {
  return {
    ...(role === 'head' ? { port: DEFAULT_CLIENT_PORT, dashboard_port: DEFAULT_DASHBOARD_PORT } : {}),
    num_cpus: facts.cpus,
    ...(facts.gpus.length ? { num_gpus: facts.gpus.length } : {}),
  };
}

/**
 * One Ray version for the cluster: the one every host has, pinned; when some host lacks Ray or they
 * disagree, the newest found (else the tested one), installed by nokube where it is missing.
 */
export function proposeRaySpec(hosts: { name: string; facts: HostFacts }[]): InitRaySpec {
  const found = hosts.filter((h) => h.facts.ray).map((h) => ({ name: h.name, version: h.facts.ray!.version }));
  const versions = [...new Set(found.map((f) => f.version))].sort(compareVersions);
  const lacking = hosts.filter((h) => !h.facts.ray).map((h) => h.name);
  if (hosts.length && !lacking.length && versions.length === 1) {
    return { rayVersion: versions[0], install: false, reason: `every host has Ray ${versions[0]}` };
  }
  const newest = versions.at(-1) ?? TESTED_RAY_VERSION;
  const why: string[] = [];
  if (lacking.length) why.push(`${lacking.join(', ')} ${lacking.length === 1 ? 'has' : 'have'} no Ray`);
  const other = found.filter((f) => f.version !== newest);
  if (other.length) why.push(other.map((f) => `${f.name} has Ray ${f.version}`).join(', '));
  return {
    rayVersion: newest,
    install: true,
    reason: `${why.join('; ')}: nokube installs Ray ${newest} where it is missing`,
  };
}

/** "2.9.3" < "2.10.0", by numbers; a part that is no number compares as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const d = /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x.localeCompare(y);
    if (d) return d;
  }
  return 0;
}
