// One SSH connection to one node, reused by every step of a run: commands over exec channels (a few
// at a time), files over one cached SFTP session. Every failure is an SshError naming the node.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Client, ClientChannel, SFTPWrapper, Stats } from 'ssh2';
import type { SshLog, SshTarget } from './types';
import { SshError, hostPort, transportHint, type SshErrorKind } from './errors';
import {
  ExecFileError,
  existsOverExec,
  homeOverExec,
  mkdirpOverExec,
  realpathOverExec,
  uploadOverExec,
  type Exec,
} from './exec-files';
import type { AcceptedHostKey } from './host-key';

export interface ExecOptions {
  /** Written to the command's stdin, then stdin is closed (never logged). */
  stdin?: string | Buffer;
  /** Kill the channel and reject (kind `timeout`) after this long. */
  timeoutMs?: number;
  /** Called with each piece of stdout / stderr as it arrives (the result still holds all of it). */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** When aborted: the command is killed and the result resolves with `aborted: true`. */
  signal?: AbortSignal;
}

export interface ExecResult {
  /** Exit status; null when the command died of a signal or the channel closed without one. */
  code: number | null;
  /** "SIGKILL" etc. when the command died of a signal. */
  signal?: string;
  stdout: string;
  stderr: string;
  /** The caller's AbortSignal fired before the command ended (the command was killed). */
  aborted?: boolean;
}

export interface NodeConnection {
  readonly node: SshTarget;
  readonly user: string;
  readonly host: string;
  readonly port: number;
  /** The method that logged in, e.g. "publickey ssh-ed25519 (ssh-private-key input #1)". */
  readonly authMethod: string;
  /** Every method tried, in order, as "<method> as <user>" (the last one succeeded). */
  readonly methodsTried: readonly string[];
  readonly hostKey: AcceptedHostKey;
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Writes to a temporary name next to `remotePath`, then renames: a half upload is never used. */
  uploadFile(content: Buffer | string, remotePath: string, mode?: number): Promise<void>;
  mkdirp(remotePath: string): Promise<void>;
  /** Absolute path; `~` and `~/x` are the login user's home, `.` too. */
  realpath(remotePath: string): Promise<string>;
  fileExists(remotePath: string): Promise<boolean>;
  /** A whole remote file, over SFTP; with `maxBytes`, refused (RangeError) once more than that has come. */
  readFile(remotePath: string, maxBytes?: number): Promise<Buffer>;
  /** A TCP stream opened from the node to host:port (a local port forward's one connection). */
  forwardOut(host: string, port: number): Promise<Duplex>;
  close(): void;
}

/** OpenSSH allows 10 sessions per connection by default (MaxSessions); SFTP takes one. */
const MAX_CHANNELS = 8;
const SFTP_NO_SUCH_FILE = 2;

export interface ConnectionInfo {
  node: SshTarget;
  user: string;
  authMethod: string;
  methodsTried: string[];
  hostKey: AcceptedHostKey;
  reporter: SshLog;
}

export class SshConnection implements NodeConnection {
  readonly node: SshTarget;
  readonly user: string;
  readonly host: string;
  readonly port: number;
  readonly authMethod: string;
  readonly methodsTried: readonly string[];
  readonly hostKey: AcceptedHostKey;
  private readonly reporter: SshLog;
  private sftpSession?: Promise<SFTPWrapper>;
  /** Set once the server refused the SFTP subsystem: file steps go over exec channels. */
  private noSftp = false;
  private home?: Promise<string>;
  private lost?: SshError;
  private closed = false;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly client: Client,
    info: ConnectionInfo,
  ) {
    this.node = info.node;
    this.user = info.user;
    this.host = info.node.host;
    this.port = info.node.sshPort;
    this.authMethod = info.authMethod;
    this.methodsTried = info.methodsTried;
    this.hostKey = info.hostKey;
    this.reporter = info.reporter;
    client.on('error', (err: Error & { code?: string; level?: string }) => {
      const timeout = err.level === 'client-timeout';
      this.lost = this.error(
        timeout ? 'timeout' : 'unreachable',
        `connection to node ${this.node.name} (${hostPort(this.host, this.port)}) lost: ${err.message}`,
        transportHint(timeout ? 'timeout' : err.code, this.host, this.port),
        err,
      );
      this.debug(`connection error: ${err.message}`);
    });
    client.on('close', () => {
      this.lost ??= this.error(
        'unreachable',
        `connection to node ${this.node.name} (${hostPort(this.host, this.port)}) was closed`,
        this.closed
          ? 'the connection was closed by nokube before this step'
          : transportHint('ECONNRESET', this.host, this.port),
      );
      this.closed = true;
      this.sftpSession = undefined;
    });
  }

  private error(kind: SshErrorKind, message: string, hint: string, cause?: unknown): SshError {
    return new SshError(message, {
      kind,
      node: this.node.name,
      host: this.host,
      port: this.port,
      user: this.user,
      hint,
      ...(cause !== undefined ? { cause } : {}),
    });
  }

  private debug(message: string): void {
    this.reporter.debug(`[${this.node.name}] ${message}`);
  }

  private checkOpen(): void {
    if (this.lost) throw this.lost;
    if (this.closed) {
      throw this.error(
        'unreachable',
        `connection to node ${this.node.name} is closed`,
        'the connection was closed before this step',
      );
    }
  }

  private async slot<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= MAX_CHANNELS) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.slot(() => this.execNow(command, opts));
  }

  private execNow(command: string, opts: ExecOptions): Promise<ExecResult> {
    this.checkOpen();
    const started = Date.now();
    this.debug(`$ ${command}${opts.stdin !== undefined ? ` (stdin: ${Buffer.byteLength(opts.stdin)} bytes)` : ''}`);
    return new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        fn();
      };
      this.client.exec(command, (err, stream: ClientChannel) => {
        if (err) {
          return finish(() =>
            reject(
              this.lost ??
                this.error(
                  'exec',
                  `cannot run a command on node ${this.node.name}: ${err.message}`,
                  'sshd refused a session channel: check MaxSessions / ForceCommand in sshd_config on the node',
                  err,
                ),
            ),
          );
        }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | null = null;
        let signal: string | undefined;
        // a stream decoder per channel: a UTF-8 character split across two packets stays whole
        const outText = opts.onStdout ? new TextDecoder() : undefined;
        const errText = opts.onStderr ? new TextDecoder() : undefined;
        stream.on('data', (b: Buffer) => {
          out.push(b);
          if (outText) opts.onStdout!(outText.decode(b, { stream: true }));
        });
        stream.stderr.on('data', (b: Buffer) => {
          errOut.push(b);
          if (errText) opts.onStderr!(errText.decode(b, { stream: true }));
        });
        const onAbort = () =>
          finish(() => {
            this.debug('aborted by the caller: killing the command');
            killChannel(stream);
            stream.close();
            const stdout = Buffer.concat(out).toString('utf8');
            const stderr = Buffer.concat(errOut).toString('utf8');
            resolve({ code: null, stdout, stderr, aborted: true });
          });
        if (opts.signal) {
          if (opts.signal.aborted) onAbort();
          else opts.signal.addEventListener('abort', onAbort, { once: true });
          stream.on('close', () => opts.signal!.removeEventListener('abort', onAbort));
        }
        stream.on('exit', (c: number | null, s?: string) => {
          code = c ?? null;
          if (s) signal = s;
        });
        stream.on('error', (e: Error) => {
          finish(() =>
            reject(
              this.error(
                'exec',
                `command on node ${this.node.name} failed: ${e.message}`,
                'see the debug log (NOKUBE_DEBUG=1)',
                e,
              ),
            ),
          );
        });
        stream.on('close', () => {
          finish(() => {
            const stdout = Buffer.concat(out).toString('utf8');
            const stderr = Buffer.concat(errOut).toString('utf8');
            this.debug(`exit ${signal ?? code} in ${Date.now() - started} ms`);
            if (stderr.trim()) this.debug(`stderr: ${truncate(stderr.trimEnd(), 8000)}`);
            if (code === null && signal === undefined) {
              // sshd always reports an exit status or signal: without one, the connection went away.
              return reject(
                this.lost ??
                  this.error(
                    'unreachable',
                    `connection to node ${this.node.name} dropped while running: ${truncate(command, 200)}`,
                    transportHint('ECONNRESET', this.host, this.port),
                  ),
              );
            }
            resolve(signal ? { code, signal, stdout, stderr } : { code, stdout, stderr });
          });
        });
        if (opts.timeoutMs && opts.timeoutMs > 0) {
          timer = setTimeout(() => {
            finish(() => {
              this.debug(`timed out after ${opts.timeoutMs} ms: killing the command`);
              killChannel(stream);
              stream.close();
              reject(
                this.error(
                  'timeout',
                  `command on node ${this.node.name} did not finish within ${formatSeconds(opts.timeoutMs!)}: ${truncate(command, 200)}`,
                  'raise --timeout / the timeout input if the node is just slow; NOKUBE_DEBUG=1 shows the command and its output',
                ),
              );
            });
          }, opts.timeoutMs);
        }
        stream.end(opts.stdin ?? '');
      });
    });
  }

  /** The SFTP session, or undefined when the server refuses the subsystem (then use exec). */
  private async files(): Promise<SFTPWrapper | undefined> {
    if (this.noSftp) {
      this.checkOpen();
      return undefined;
    }
    try {
      return await this.sftp();
    } catch (err) {
      if (this.lost || this.closed) throw err;
      this.noSftp = true;
      this.debug(`${(err as Error).message}: moving files over the exec channel instead (no SFTP)`);
      return undefined;
    }
  }

  private readonly execFiles: Exec = (command, opts) => this.exec(command, opts);

  /** A file step over exec, its failure as an SshError like the SFTP one. */
  private async overExec<T>(action: string, path: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof ExecFileError) throw this.sftpError(action, path, err);
      throw err;
    }
  }

  private sftp(): Promise<SFTPWrapper> {
    this.checkOpen();
    if (!this.sftpSession) {
      const session = new Promise<SFTPWrapper>((resolve, reject) => {
        this.client.sftp((err, sftp) => {
          if (err) {
            reject(
              this.lost ??
                this.error(
                  'sftp',
                  `cannot open SFTP on node ${this.node.name}: ${err.message}`,
                  'is the sftp Subsystem enabled in sshd_config on the node?',
                  err,
                ),
            );
            return;
          }
          sftp.on('close', () => {
            if (this.sftpSession === session) this.sftpSession = undefined;
          });
          resolve(sftp);
        });
      });
      session.catch(() => {
        if (this.sftpSession === session) this.sftpSession = undefined;
      });
      this.sftpSession = session;
    }
    return this.sftpSession;
  }

  private sftpError(action: string, path: string, err: unknown, hint?: string): SshError {
    const e = err as { message?: string };
    return (
      this.lost ??
      this.error(
        'sftp',
        `${action} ${path} on node ${this.node.name} failed: ${e?.message ?? String(err)}`,
        hint ?? `check that user ${this.user} may write there (storage.path) and that the disk is not full`,
        err,
      )
    );
  }

  /** The login user's home (SFTP starts there). */
  private homeDir(): Promise<string> {
    if (!this.home) {
      const h = this.files().then((s) =>
        s
          ? call<string>((cb) => s.realpath('.', cb))
          : this.overExec('resolving', '~', () => homeOverExec(this.execFiles)),
      );
      h.catch(() => {
        if (this.home === h) this.home = undefined;
      });
      this.home = h;
    }
    return this.home;
  }

  private async absolute(p: string): Promise<string> {
    if (p === '~' || p === '.' || p === '') return this.homeDir();
    if (p.startsWith('~/')) return posix.join(await this.homeDir(), p.slice(2));
    if (!p.startsWith('/')) return posix.join(await this.homeDir(), p);
    return posix.normalize(p);
  }

  async realpath(remotePath: string): Promise<string> {
    const sftp = await this.files();
    const p = await this.absolute(remotePath);
    if (!sftp) return this.overExec('resolving', remotePath, () => realpathOverExec(this.execFiles, p));
    try {
      return await call<string>((cb) => sftp.realpath(p, cb));
    } catch (err) {
      throw this.sftpError('resolving', remotePath, err, 'does the path exist on the node?');
    }
  }

  async fileExists(remotePath: string): Promise<boolean> {
    const sftp = await this.files();
    const p = await this.absolute(remotePath);
    if (!sftp) return existsOverExec(this.execFiles, p);
    try {
      await call<Stats>((cb) => sftp.stat(p, cb));
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === SFTP_NO_SUCH_FILE) return false;
      throw this.sftpError('checking', remotePath, err);
    }
  }

  async mkdirp(remotePath: string): Promise<void> {
    const sftp = await this.files();
    const target = await this.absolute(remotePath);
    this.debug(`mkdir -p ${target}`);
    if (!sftp) return this.overExec('creating directory', target, () => mkdirpOverExec(this.execFiles, target));
    let dir = '/';
    for (const part of target.split('/').filter(Boolean)) {
      dir = posix.join(dir, part);
      const stats = await statOrUndefined(sftp, dir);
      if (stats?.isDirectory()) continue;
      if (stats) throw this.sftpError('creating directory', target, new Error(`${dir} exists and is not a directory`));
      try {
        await call<void>((cb) => sftp.mkdir(dir, cb));
      } catch (err) {
        // Another step may have created it in between.
        if (!(await statOrUndefined(sftp, dir))?.isDirectory()) throw this.sftpError('creating directory', dir, err);
      }
    }
  }

  async uploadFile(content: Buffer | string, remotePath: string, mode = 0o644): Promise<void> {
    const sftp = await this.files();
    const target = await this.absolute(remotePath);
    const tmp = posix.join(
      posix.dirname(target),
      `.${posix.basename(target)}.nokube-${randomBytes(6).toString('hex')}.tmp`,
    );
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    this.debug(`upload ${data.length} bytes to ${target} (mode ${mode.toString(8)})${sftp ? '' : ' over exec'}`);
    if (!sftp) return this.overExec('uploading', target, () => uploadOverExec(this.execFiles, data, tmp, target, mode));
    try {
      await call<void>((cb) => sftp.writeFile(tmp, data, { mode }, cb));
      await call<void>((cb) => sftp.chmod(tmp, mode, cb)); // writeFile's mode is subject to umask
      await this.rename(sftp, tmp, target);
    } catch (err) {
      await call<void>((cb) => sftp.unlink(tmp, cb)).catch(() => undefined);
      throw this.sftpError('uploading', target, err);
    }
  }

  private async rename(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
    try {
      // posix-rename replaces the target atomically; plain SFTP rename refuses an existing target.
      await call<void>((cb) => sftp.ext_openssh_rename(from, to, cb));
      return;
    } catch (err) {
      if (!/not support/i.test((err as Error).message ?? '')) throw err;
    }
    if (await statOrUndefined(sftp, to)) await call<void>((cb) => sftp.unlink(to, cb));
    await call<void>((cb) => sftp.rename(from, to, cb));
  }

  async readFile(remotePath: string, maxBytes?: number): Promise<Buffer> {
    const sftp = await this.sftp();
    const p = await this.absolute(remotePath);
    try {
      if (maxBytes === undefined) return await call<Buffer>((cb) => sftp.readFile(p, cb));
      return await readCapped(sftp, p, maxBytes);
    } catch (err) {
      if (err instanceof RangeError) throw err;
      throw this.sftpError('reading', p, err, 'does the file exist, and may the login user read it?');
    }
  }

  forwardOut(host: string, port: number): Promise<Duplex> {
    this.checkOpen();
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
        if (!err) return resolve(stream);
        reject(
          this.lost ??
            this.error(
              'exec',
              `node ${this.node.name} cannot open a connection to ${hostPort(host, port)}: ${err.message}`,
              `is something listening on ${hostPort(host, port)} there, and does sshd allow TCP forwarding (AllowTcpForwarding)?`,
              err,
            ),
        );
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.debug('closing connection');
    this.client.end();
  }
}

/**
 * Sends SIGKILL to the command's process group (OpenSSH's "signal" channel request). ssh2's
 * `signal()` refuses once stdin is closed, which it always is here, so the request goes out through
 * the channel's protocol object; servers without signal support ignore it and closing the channel
 * is all that is left.
 */
function killChannel(stream: ClientChannel): void {
  const ch = stream as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal(id: number, name: string): void } };
  };
  try {
    const id = ch.outgoing?.id;
    if ((ch.outgoing?.state === 'open' || ch.outgoing?.state === 'eof') && id !== undefined && ch._client?._protocol)
      ch._client._protocol.signal(id, 'KILL');
    else stream.signal('KILL');
  } catch {
    // nothing more to do: the channel is closed next
  }
}

/** Node-style callback API → promise; synchronous throws (unsupported extension) reject too. */
/** Reads a remote file chunk by chunk, counting what came (a file that grows while read counts too). */
function readCapped(sftp: SFTPWrapper, path: string, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const stream = sftp.createReadStream(path);
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        stream.destroy();
        reject(new RangeError(`${path} is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    stream.on('error', reject);
    stream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

function call<T>(fn: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      fn((err, value) => (err ? reject(err) : resolve(value)));
    } catch (err) {
      reject(err);
    }
  });
}

async function statOrUndefined(sftp: SFTPWrapper, p: string): Promise<Stats | undefined> {
  try {
    return await call<Stats>((cb) => sftp.stat(p, cb));
  } catch {
    return undefined;
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length - max} more chars)`;
}
