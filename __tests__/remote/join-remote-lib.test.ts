// remote_lib/nokube_remote.py, the file uploaded to every node, is its modules joined: a fresh join is
// the committed file byte for byte, and the joiner refuses a module it does not list or an import
// from a module joined after the importing one (the one namespace would not have it yet).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const REPO = join(__dirname, '..', '..');
const SOURCES = join(REPO, 'remote_lib', 'src', 'nokube_remote');
const dirs: string[] = [];

function work(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nokube-join-'));
  dirs.push(dir);
  return dir;
}

function joinInto(from: string, out: string): { code: number; stderr: string } {
  try {
    execFileSync(process.execPath, [join(REPO, 'scripts', 'join-remote-lib.mjs'), '--from', from, '--out', out], {
      stdio: 'pipe',
    });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { status: number; stderr: Buffer };
    return { code: e.status, stderr: e.stderr.toString() };
  }
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the uploaded remote_lib file', () => {
  it('is its modules joined, byte for byte', () => {
    const out = join(work(), 'nokube_remote.py');
    expect(joinInto(SOURCES, out).code).toBe(0);
    expect(readFileSync(out).equals(readFileSync(join(REPO, 'remote_lib', 'nokube_remote.py')))).toBe(true);
  });

  it('keeps each module under a banner with its name, without the imports between modules', () => {
    const text = readFileSync(join(REPO, 'remote_lib', 'nokube_remote.py'), 'utf8');
    expect(text.startsWith('#!/usr/bin/env python3\n# Generated from remote_lib/src/nokube_remote/')).toBe(true);
    expect(text).toMatch(/^# ---- protocol\.py ----$/m);
    expect(text).toMatch(/^# ---- dispatch\.py ----$/m);
    expect(text).not.toMatch(/^\s*from \./m);
  });

  it('refuses a module it does not list', () => {
    const src = work();
    cpSync(SOURCES, src, { recursive: true });
    writeFileSync(join(src, 'heartbeat.py'), 'def verb_heartbeat(inp):\n    return {"ok": True}\n');
    const res = joinInto(src, join(src, 'out.py'));
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('heartbeat: not in PARTS of scripts/join-remote-lib.mjs');
  });

  it('refuses an import from a module joined later', () => {
    const src = work();
    cpSync(SOURCES, src, { recursive: true });
    const protocol = join(src, 'protocol.py');
    writeFileSync(protocol, `from .logs import verb_logs\n${readFileSync(protocol, 'utf8')}`);
    const res = joinInto(src, join(src, 'out.py'));
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('protocol.py imports from .logs, which is not joined before it');
  });
});
