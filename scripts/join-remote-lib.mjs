// Joins remote_lib's modules (remote_lib/src/nokube_remote/*.py) into the one file that is uploaded
// to a node (remote_lib/nokube_remote.py): one file, one content hash, one compiled cache on the node.
// The joined file is the package's docstring, then each module in PARTS order with the lines that
// import one module from another (`from .storage import ...`) left out: in one file they share one
// namespace. A module may import only from modules before it, so the order is also the import order.
//   node scripts/join-remote-lib.mjs [--from DIR] [--out FILE]   (default: remote_lib/nokube_remote.py)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const REMOTE_LIB_SOURCES = join(root, 'remote_lib', 'src', 'nokube_remote');
export const REMOTE_LIB_FILE = join(root, 'remote_lib', 'nokube_remote.py');

/** The modules in the order they are joined (each imports only from those before it). */
export const PARTS = [
  'protocol',
  'node',
  'storage',
  'processes',
  'ray_programs',
  'ray_found',
  'lock',
  'gcs_redis',
  'launchers',
  'worker_logs',
  'supervise',
  'start_stop',
  'usage',
  'status',
  'drain',
  'gpus',
  'probe',
  'packages',
  'install',
  'environment',
  'jobs',
  'logs',
  'network',
  'dispatch',
];

const HEADER = [
  '#!/usr/bin/env python3',
  '# Generated from remote_lib/src/nokube_remote/*.py by scripts/join-remote-lib.mjs (npm run bundle):',
  '# edit those modules, not this file. Its SHA-256 names it on the node (see remote_lib/PROTOCOL.md).',
];

/** `from .module import name` or `from .module import (\n names,\n)`, at the start of a line. */
const SIBLING_IMPORT = /^from \.(\w+) import (?:\([^)]*\)|[^\n(]*)\n/gm;

/** The joined file's text; throws when a module is missing from PARTS or imports from a later one. */
export function joinRemoteLib(dir = REMOTE_LIB_SOURCES) {
  const present = readdirSync(dir)
    .filter((f) => f.endsWith('.py') && f !== '__init__.py')
    .map((f) => f.slice(0, -3));
  const unlisted = present.filter((p) => !PARTS.includes(p));
  if (unlisted.length) throw new Error(`${unlisted.join(', ')}: not in PARTS of scripts/join-remote-lib.mjs`);
  const missing = PARTS.filter((p) => !present.includes(p));
  if (missing.length) throw new Error(`${missing.join(', ')}: in PARTS but not in ${dir}`);

  const out = [HEADER.join('\n'), readFileSync(join(dir, '__init__.py'), 'utf8').trim()];
  PARTS.forEach((part, i) => {
    const text = readFileSync(join(dir, `${part}.py`), 'utf8').replace(SIBLING_IMPORT, (_line, from) => {
      const at = PARTS.indexOf(from);
      if (at < 0 || at >= i) {
        throw new Error(`${part}.py imports from .${from}, which is not joined before it (see PARTS)`);
      }
      return '';
    });
    if (/^\s*from \./m.test(text)) throw new Error(`${part}.py: a sibling import the joiner cannot read`);
    // leaving the imports out leaves their blank lines: at most two in a row, as in the modules
    out.push(`# ---- ${part}.py ----\n${text.trim().replace(/\n{4,}/g, '\n\n\n')}`);
  });
  return out.join('\n\n\n') + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
  try {
    writeFileSync(arg('--out') ?? REMOTE_LIB_FILE, joinRemoteLib(arg('--from')));
  } catch (err) {
    console.error(`join-remote-lib: ${err.message}`);
    process.exit(1);
  }
}
