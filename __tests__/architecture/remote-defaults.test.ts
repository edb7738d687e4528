// Defaults live once, in nokube's model (config/types.ts, engine/decisions/defaults.ts): the node's
// library fills nothing in. A value a verb reads from its request is either `need()`ed (a request
// without it is refused as nokube's bug) or optional with no number behind it. This reads every
// module of remote_lib for the two shapes a quiet default takes on a request field.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const MODULES = resolve(__dirname, '../../remote_lib/src/nokube_remote');
/** The dicts a verb reads its request from (`inp`, and the supervisor's stored copy of start's, `spec`). */
const REQUEST = '(?:inp|spec|args|wait)';
const QUIET_DEFAULTS = [
  // inp.get("timeout_sec") or 180
  new RegExp(`\\b${REQUEST}\\.get\\(\\s*"[a-z_]+"\\s*\\)\\s+or\\s+(?:\\d|[A-Z][A-Z_]+\\b)`),
  // inp.get("timeout_sec", 180)
  new RegExp(`\\b${REQUEST}\\.get\\(\\s*"[a-z_]+"\\s*,\\s*(?:\\d|[A-Z][A-Z_]+\\b)`),
];

describe('remote_lib holds no default of its own', () => {
  it('no request field is read with a number (or a constant) behind it', () => {
    const found: string[] = [];
    for (const name of readdirSync(MODULES).filter((n) => n.endsWith('.py'))) {
      readFileSync(join(MODULES, name), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (QUIET_DEFAULTS.some((re) => re.test(line))) found.push(`${name}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
  });

  it('the pattern finds the shapes it is meant to find', () => {
    const hit = (line: string) => QUIET_DEFAULTS.some((re) => re.test(line));
    expect(hit('    timeout = float(inp.get("timeout_sec") or 180)')).toBe(true);
    expect(hit('    grace = inp.get("grace_sec", DEFAULT_GRACE_SEC)')).toBe(true);
    expect(hit('    timeout = float(need(inp, "timeout_sec", "start"))')).toBe(false);
    expect(hit('    since = inp.get("since_sec")')).toBe(false);
  });
});
