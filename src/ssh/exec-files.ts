// File steps over plain exec channels, for servers that refuse the SFTP subsystem (hardened sshd
// without `Subsystem sftp`). POSIX sh and coreutils only. An upload goes to a temporary name next
// to the target, its sha256 is checked on the node, then it is renamed: a half or damaged upload
// is never used.
import { createHash } from 'node:crypto';
import { shellQuote as q } from './quote';

export type Exec = (
  command: string,
  opts?: { stdin?: string | Buffer },
) => Promise<{ code: number | null; stdout: string; stderr: string }>;

/** Thrown with the command's stderr when a step fails; the caller turns it into an SshError. */
export class ExecFileError extends Error {}

async function run(exec: Exec, command: string, stdin?: string | Buffer): Promise<string> {
  const r = await exec(command, stdin === undefined ? {} : { stdin });
  if (r.code !== 0) throw new ExecFileError(r.stderr.trim() || `exit ${r.code}`);
  return r.stdout;
}

export async function homeOverExec(exec: Exec): Promise<string> {
  return (await run(exec, 'cd && pwd -P')).trim();
}

export async function realpathOverExec(exec: Exec, path: string): Promise<string> {
  return (await run(exec, `realpath -- ${q(path)} 2>/dev/null || (cd -- ${q(path)} && pwd -P)`)).trim();
}

export async function existsOverExec(exec: Exec, path: string): Promise<boolean> {
  const r = await exec(`test -e ${q(path)} || test -L ${q(path)}`);
  return r.code === 0;
}

export async function mkdirpOverExec(exec: Exec, path: string): Promise<void> {
  await run(exec, `mkdir -p -- ${q(path)}`);
}

export async function uploadOverExec(
  exec: Exec,
  data: Buffer,
  tmp: string,
  target: string,
  mode: number,
): Promise<void> {
  const want = createHash('sha256').update(data).digest('hex');
  const t = q(tmp);
  const script = [
    `umask 077`,
    `cat > ${t} || { rm -f ${t}; exit 1; }`,
    `h=$( (sha256sum ${t} 2>/dev/null || shasum -a 256 ${t}) | cut -d' ' -f1)`,
    `if [ "$h" != ${want} ]; then rm -f ${t}; echo "content hash of the upload is $h, expected ${want}" >&2; exit 1; fi`,
    `chmod ${mode.toString(8)} ${t} && mv -f ${t} ${q(target)} || { rm -f ${t}; exit 1; }`,
  ].join('\n');
  await run(exec, script, data);
}
