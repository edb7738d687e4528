import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entrypointCommand, parseRuntimeEnv } from '../../src/engine/job';
import { shortJobMessage } from '../../src/words/job-message';
import { RAY_PACKAGE_LIMIT_BYTES, WorkingDirError, packWorkingDir } from '../../src/engine/steps/working-dir';

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
    const tgz = await packWorkingDir(dir);
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
