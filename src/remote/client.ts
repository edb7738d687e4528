// A typed client of remote_lib's JSON verbs over one node's SSH connection.
// The library is uploaded once per content hash; a call is one SSH exec in the common case.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote as shq } from '../ssh/quote';
import type { LockAnswer, ProbeAnswer, RemoteAnswer, StartAnswer, StatusAnswer, StopAnswer } from './types';

/** What the client needs of an SSH connection (src/ssh's NodeConnection has it). */
export interface RemoteShell {
  exec(
    command: string,
    opts?: { stdin?: string; timeoutMs?: number },
  ): Promise<{ code: number | null; signal?: string; stdout: string; stderr: string }>;
  uploadFile(content: Buffer | string, remotePath: string, mode?: number): Promise<void>;
  mkdirp(remotePath: string): Promise<void>;
  realpath(remotePath: string): Promise<string>;
}

export interface RemoteLibSource {
  content: string;
  /** First 12 hex digits of the content's sha256: part of the remote file name. */
  hash: string;
  /** The whole sha256: the file on the node is run only when its content still has it. */
  sha256: string;
}

/** Exit code the bootstrap line uses to say "library not uploaded yet". */
const MISSING_LIB = 97;

export function loadRemoteLib(dir: string): RemoteLibSource {
  const content = readFileSync(join(dir, 'nokube_remote.py'), 'utf8');
  const sha256 = createHash('sha256').update(content).digest('hex');
  return { content, hash: sha256.slice(0, 12), sha256 };
}

export class RemoteError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly stderr?: string,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

export interface RemoteLibOptions {
  cluster: string;
  /** Absolute storage path, or undefined for ~/.nokube/<cluster>. */
  storage?: string;
  /** Interpreter to run the library with (ray_spec.python), default python3. */
  python?: string;
  timeoutMs: number;
  debug?: (message: string) => void;
  /** Told how long each call (by verb) and each upload of the library (`upload`) took, in epoch ms. */
  timed?: (what: string, t0: number, t1: number) => void;
}

export class RemoteLib {
  private uploaded = false;

  constructor(
    private readonly shell: RemoteShell,
    private readonly lib: RemoteLibSource,
    private readonly opts: RemoteLibOptions,
  ) {}

  private get fileName(): string {
    return `nokube_remote.${this.lib.hash}.py`;
  }

  /** The library's path as a shell word: `$HOME` stays expandable for the default storage. */
  private remotePathWord(): string {
    const rel = `lib/${this.fileName}`;
    if (this.opts.storage) return shq(`${this.opts.storage}/${rel}`);
    return `"$HOME"/${shq(`.nokube/${this.opts.cluster}/${rel}`)}`;
  }

  private async upload(): Promise<void> {
    const base = this.opts.storage ?? `${await this.shell.realpath('.')}/.nokube/${this.opts.cluster}`;
    try {
      await this.shell.mkdirp(`${base}/lib`);
      await this.shell.uploadFile(this.lib.content, `${base}/lib/${this.fileName}`, 0o644);
    } catch (err) {
      // the node answered: its storage path is the trouble, not the connection
      const e = err as { message?: string; kind?: string };
      if (e.kind === 'unreachable' || e.kind === 'timeout') throw err;
      throw new RemoteError(
        `storage path ${base} is not writable: cannot create ${base}/lib (${e.message ?? String(err)})`,
        `create it for the login user (sudo mkdir -p ${base} && sudo chown -R <user> ${base}), or set storage.path to a directory the login user owns`,
      );
    }
    this.uploaded = true;
  }

  async call<T extends RemoteAnswer>(verb: string, input: Record<string, unknown>): Promise<T> {
    const python = this.opts.python ?? 'python3';
    // A file whose content no longer matches its hash (changed on the node) counts as missing:
    // it is uploaded again, never run.
    const line =
      `f=${this.remotePathWord()}; [ -f "$f" ] && [ "$(sha256sum < "$f")" = "${this.lib.sha256}  -" ] || exit ${MISSING_LIB}; ` +
      `exec ${shq(python)} "$f" ${verb}`;
    const stdin = JSON.stringify({ cluster: this.opts.cluster, storage: this.opts.storage ?? null, ...input });
    this.opts.debug?.(`remote: ${verb} (${line})`);
    let t0 = Date.now();
    let res = await this.shell.exec(line, { stdin, timeoutMs: this.opts.timeoutMs });
    if (res.code === MISSING_LIB && !this.uploaded) {
      this.opts.debug?.(`remote: uploading ${this.fileName}`);
      const u0 = Date.now();
      await this.upload();
      t0 = Date.now();
      this.opts.timed?.('upload', u0, t0);
      res = await this.shell.exec(line, { stdin, timeoutMs: this.opts.timeoutMs });
    }
    this.opts.timed?.(verb, t0, Date.now());
    if (res.stderr.trim()) this.opts.debug?.(`remote ${verb} stderr:\n${res.stderr.trimEnd()}`);
    if (res.code === 127) {
      throw new RemoteError(
        `the interpreter "${python}" was not found on the node`,
        'install Python 3.8+ on the node, or set ray_spec.python to its path',
        res.stderr,
      );
    }
    if (res.code === 126) {
      throw new RemoteError(
        `the interpreter "${python}" cannot be run by the login user (permission denied)`,
        `make it executable for the login user (chmod a+rx ${python}, and its directories), or set ray_spec.python to one it may run`,
        res.stderr,
      );
    }
    let answer: T;
    try {
      answer = JSON.parse(res.stdout) as T;
    } catch {
      const tail = res.stderr.trim().split('\n').slice(-5).join('\n');
      throw new RemoteError(
        `remote_lib ${verb} failed (exit ${res.code ?? res.signal})${tail ? `: ${tail}` : ''}`,
        'run with NOKUBE_DEBUG=1 to see the remote command and its output',
        res.stderr,
      );
    }
    return answer;
  }

  probe(input: Record<string, unknown>): Promise<ProbeAnswer> {
    return this.call<ProbeAnswer>('probe', input);
  }
  start(input: Record<string, unknown>): Promise<StartAnswer> {
    return this.call<StartAnswer>('start', input);
  }
  status(input: Record<string, unknown>): Promise<StatusAnswer> {
    return this.call<StatusAnswer>('status', input);
  }
  stop(input: Record<string, unknown> = {}): Promise<StopAnswer> {
    return this.call<StopAnswer>('stop', input);
  }
  lock(input: Record<string, unknown>): Promise<LockAnswer> {
    return this.call<LockAnswer>('lock', input);
  }
  unlock(input: Record<string, unknown>): Promise<LockAnswer> {
    return this.call<LockAnswer>('unlock', input);
  }
}
