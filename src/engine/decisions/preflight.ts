// Checks made on every node before anything is started (pure): each trouble the design note
// lists under troubleshooting, reported per node with what to do about it.
import type { ClusterConfig } from '../../config/types';
import type { ProbeAnswer } from '../../remote/types';
import type { RunError } from '../types';

/** The pip command that installs the wanted Ray for the node's own interpreter (its `pip` may be another's). */
function pipCommand(python: string | undefined, version: string | undefined): string {
  return `${python ?? 'python3'} -m pip install "ray[default]${version ? `==${version}` : ''}"`;
}

export function preflightProblems(cluster: ClusterConfig, probes: Map<string, ProbeAnswer>): RunError[] {
  const problems: RunError[] = [];
  const headProbe = probes.get(cluster.head.name);
  const wantRay = cluster.rayVersion ?? headProbe?.ray?.version;
  const wantPython = minor(headProbe?.python?.version);

  for (const node of cluster.nodes) {
    const p = probes.get(node.name);
    if (!p) continue; // unreachable: reported by the connect step
    const at = { node: node.name, host: node.sshUrl };
    if (!p.ok) {
      problems.push({ ...at, message: p.error ?? 'probe failed', hint: p.hint });
      continue;
    }
    if (p.storage.unsafe) {
      problems.push({
        ...at,
        message: `${p.storage.error ?? `storage path ${p.storage.path} is not safe`}: refused (it holds the cluster's token and the code run on the node)`,
        hint: `set storage.path to a directory that only ${p.user} can write, e.g. /opt/ray/<cluster> owned by ${p.user} with mode 0755 (chmod go-w)`,
      });
    } else if (!p.storage.writable) {
      problems.push({
        ...at,
        message: `storage path ${p.storage.path} is not writable by ${p.user}${p.storage.error ? `: ${p.storage.error}` : ''}`,
        hint: `sudo mkdir -p ${p.storage.path} && sudo chown -R ${p.user}:${p.user} ${p.storage.path}, or set storage.path to a directory ${p.user} owns`,
      });
    }
    if (!p.ray) {
      problems.push({
        ...at,
        message: `Ray is not installed for ${p.python?.path ?? 'python3'}${p.ray_error ? ` (${p.ray_error})` : ''}`,
        hint: `install Ray on the node: ${pipCommand(p.python?.path, wantRay)} (or set ray_spec.python to an interpreter that has it, or ray_version and ray_spec.install to let nokube install it in a venv)`,
      });
    } else if (wantRay && p.ray.version !== wantRay) {
      const source = cluster.rayVersion ? 'ray_spec.ray_version' : `the head (${cluster.head.name})`;
      problems.push({
        ...at,
        message: `Ray ${p.ray.version} is installed, but ${source} has ${wantRay}: every node must run the same Ray version`,
        hint: `${pipCommand(p.ray.python, wantRay)} on ${node.name} (or set ray_spec.install to let nokube install it in a venv)`,
      });
    }
    if (wantPython && node !== cluster.head && minor(p.python?.version) !== wantPython) {
      problems.push({
        ...at,
        message: `Python ${p.python.version} here, Python ${headProbe?.python.version} on the head: Ray needs the same Python version on every node`,
        hint: `use Python ${wantPython} on every node (ray_spec.python selects the interpreter)`,
      });
    }
    for (const port of p.ports ?? []) {
      if (port.in_use && !port.by_this_cluster) {
        problems.push({
          ...at,
          message: `port ${port.port} (${port.name}) is already in use on ${node.host} by another process`,
          hint: `find it with: netstat -tlnp | grep :${port.port} (or ss -tlnp); stop it, or choose another ray_config.${port.name}`,
        });
      }
    }
  }
  return problems;
}

function minor(version: string | undefined): string | undefined {
  return version?.split('.').slice(0, 2).join('.');
}
