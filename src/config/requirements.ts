// ray_spec.install's packages: the requirements file (one pinned package a line, hashes allowed, read
// beside the config by loadConfig) and the short `packages:` list, both as what the nodes install.
import type { Diagnostic, PackageRequirement } from './types';

const NAME = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9._,\s-]+\])?\s*(?:==\s*([A-Za-z0-9.+!_-]+))?\s*(;.*)?$/;

/** `tabulate==0.9.0` (a `packages:` item, checked by the schema) as a requirement. */
export function requirementOf(spec: string): PackageRequirement {
  const m = NAME.exec(spec.trim());
  const req: PackageRequirement = { name: m?.[1] ?? spec.trim(), line: spec.trim() };
  if (m?.[3]) req.version = m[3];
  return req;
}

/** The lines of a requirements file: a package pinned with == on each, `--hash=...` options after it. */
export function parseRequirementsFile(
  text: string,
  file: string,
): { requirements: PackageRequirement[]; diagnostics: Diagnostic[] } {
  const requirements: PackageRequirement[] = [];
  const diagnostics: Diagnostic[] = [];
  const lines = text.split(/\r?\n/);
  const error = (line: number, message: string, hint: string) =>
    diagnostics.push({ severity: 'error', file, line, col: 1, path: 'ray_spec.install.requirements', message, hint });
  for (let i = 0; i < lines.length; i++) {
    const at = i + 1;
    let logical = lines[i]!;
    // a line ending in a backslash goes on (pip-compile's --hash lines)
    while (/\\\s*$/.test(logical) && i + 1 < lines.length) logical = logical.replace(/\\\s*$/, ' ') + lines[++i];
    const text = logical.replace(/(^|\s)#.*$/, '').trim();
    if (!text) continue;
    const words = text.split(/\s+/);
    const options = words.filter((w) => w.startsWith('-'));
    const spec = words.filter((w) => !w.startsWith('-')).join(' ');
    const other = options.filter((o) => !/^--hash=\w+:[0-9a-fA-F]+$/.test(o));
    if (other.length || !spec) {
      error(
        at,
        `${other[0] ?? options[0]} is not taken in a requirements file of ray_spec.install: only packages (name==version) and --hash`,
        'set the package sources in ray_spec.install (index_url, find_links); list every package in this file itself',
      );
      continue;
    }
    const m = NAME.exec(spec);
    if (!m) {
      error(
        at,
        `"${spec}" is not a package name with ==version`,
        'write one pinned package a line, e.g. tabulate==0.9.0',
      );
      continue;
    }
    if (!m[3]) {
      error(
        at,
        `${m[1]} is not pinned: the nodes would install whatever version the index has that day`,
        `pin it, e.g. ${m[1]}==<version> (pip freeze or pip-compile give the versions)`,
      );
      continue;
    }
    requirements.push({ name: m[1]!, version: m[3], line: words.join(' ') });
  }
  return { requirements, diagnostics };
}
