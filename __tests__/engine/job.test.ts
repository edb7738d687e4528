import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entrypointCommand, parseRuntimeEnv } from '../../src/engine/job';
import { shortJobMessage } from '../../src/words/job-message';
import { RAY_PACKAGE_LIMIT_BYTES, WorkingDirError, packWorkingDir } from '../../src/engine/steps/working-dir';
import { selectWorkingDirFiles } from '../../src/engine/steps/working-dir-files';

describe('job submit input', () => {
  it('joins entrypoint words quoted; one word is a shell command as written', () => {
    expect(entrypointCommand(['python', '-c', "print('a b')"])).toBe(`python -c 'print('\\''a b'\\'')'`);
    expect(entrypointCommand(['python x.py && echo done'])).toBe('python x.py && echo done');
    expect(entrypointCommand('  python smoke.py ')).toBe('python smoke.py');
  });

  it('reads the runtime env as a JSON object, or says what is wrong', () => {
    expect(parseRuntimeEnv('{"pip": ["requests"]}')).toEqual({ value: { pip: ['requests'] } });
    expect(parseRuntimeEnv(undefined)).toEqual({});
    expect(parseRuntimeEnv('{pip: 1').error).toMatch(/^the runtime env is not valid JSON: /);
    expect(parseRuntimeEnv('["a"]').error).toMatch(/must be a JSON object/);
  });

  it("shortens Ray's failure message, which repeats the log", () => {
    const ray =
      'Job entrypoint command failed with exit code 3, last available logs (truncated to 20,000 chars):\nboom\n';
    expect(shortJobMessage(ray)).toBe('Job entrypoint command failed with exit code 3');
    expect(shortJobMessage('Job finished successfully.')).toBe('Job finished successfully.');
  });
});

describe('working dir', () => {
  it('packs a directory; a missing one or one over the limit is refused with the limit named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nokube-wd-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'a.py'), 'print(1)\n');
    const tgz = (await packWorkingDir(dir)).archive;
    expect(tgz.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    await expect(packWorkingDir(join(dir, 'nope'))).rejects.toThrow(/working directory .*nope does not exist/);
    await expect(packWorkingDir(join(dir, 'sub', 'a.py'))).rejects.toThrow(/is not a directory/);
    writeFileSync(join(dir, 'big.bin'), randomBytes(256 * 1024));
    const err = await packWorkingDir(dir, 100 * 1024).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkingDirError);
    expect((err as Error).message).toMatch(/over Ray's upload limit for a working_dir \(0\.1 MiB, compressed\)/);
    expect(RAY_PACKAGE_LIMIT_BYTES).toBe(512 * 1024 * 1024);
  });
});

describe('working dir: what is uploaded', () => {
  /** A checkout: .git/config with a token, .env and build output ignored, a nested .gitignore, a link. */
  function checkout(withGit: boolean): string {
    const dir = mkdtempSync(join(tmpdir(), 'nokube-wd-sel-'));
    if (withGit) execFileSync('git', ['init', '-q', dir]);
    else mkdirSync(join(dir, '.git', 'info'), { recursive: true });
    writeFileSync(join(dir, '.git', 'config'), '[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n');
    writeFileSync(join(dir, '.git', 'info', 'exclude'), 'local-notes.txt\n');
    writeFileSync(join(dir, '.gitignore'), '.env\n/build/\n*.log\n!keep.log\n');
    writeFileSync(join(dir, '.env'), 'TOKEN=hunter2\n');
    writeFileSync(join(dir, 'local-notes.txt'), 'mine\n');
    writeFileSync(join(dir, 'main.py'), 'print(1)\n');
    writeFileSync(join(dir, 'run.log'), 'x\n');
    writeFileSync(join(dir, 'keep.log'), 'x\n');
    mkdirSync(join(dir, 'build'));
    writeFileSync(join(dir, 'build', 'out.bin'), 'x');
    mkdirSync(join(dir, 'pkg', 'data'), { recursive: true });
    writeFileSync(join(dir, 'pkg', '.gitignore'), 'data/\nsecret.txt\n');
    writeFileSync(join(dir, 'pkg', 'mod.py'), 'x = 1\n');
    writeFileSync(join(dir, 'pkg', 'secret.txt'), 's\n');
    writeFileSync(join(dir, 'pkg', 'data', 'big.csv'), 'a,b\n');
    symlinkSync('/etc/passwd', join(dir, 'passwd-link'));
    return dir;
  }
  const expected = ['.gitignore', 'keep.log', 'main.py', 'pkg/.gitignore', 'pkg/mod.py'];

  it('with git: what git ls-files lists; .git/, ignored files and links stay home', () => {
    const sel = selectWorkingDirFiles(checkout(true));
    expect(sel.by).toBe('git');
    expect(sel.files).toEqual(expected);
    expect(sel.notFiles).toBe(1);
    // .env, local-notes.txt, run.log, build/ (git does not look inside pkg/, which it does not track yet)
    expect(sel.ignored).toBeGreaterThanOrEqual(4);
  });

  it('without git: the same files, by the .gitignore files and .git/info/exclude', () => {
    const sel = selectWorkingDirFiles(checkout(false));
    expect(sel.by).toBe('gitignore');
    expect(sel.files).toEqual(expected);
    expect(sel.ignored).toBe(6);
    expect(sel.notFiles).toBe(1);
  });

  it('a sub-directory of a checkout keeps its parents’ rules; the packed archive holds only the chosen files', async () => {
    const dir = checkout(false);
    writeFileSync(join(dir, 'pkg', 'debug.log'), 'x\n');
    expect(selectWorkingDirFiles(join(dir, 'pkg')).files).toEqual(['.gitignore', 'mod.py']);
    const packed = await packWorkingDir(dir);
    const names = execFileSync('tar', ['-tzf', '-'], { input: packed.archive, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    expect(names.sort()).toEqual(expected);
    expect(packed.bytes).toBeGreaterThan(0);
  });
});
