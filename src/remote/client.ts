// A typed client of remote_lib's JSON verbs over one node's SSH connection.
// The library is uploaded once per content hash; a call is one SSH exec in the common case.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote as shq } from '../ssh/quote';
import { LOAD_CHECKED, PREPARE_STORAGE } from './bootstrap';
import type {
  DrainAnswer,
  DrainRequest,
  InstallAnswer,
  PackagesAnswer,
  ImportsAnswer,
  ImportsRequest,
  PackagesRequest,
  InstallRequest,
  JobActionRequest,
  JobAnswer,
  ListenAnswer,
  ListenReady,
  ListenRequest,
  LogsAnswer,
  LogsRequest,
  LockAnswer,
  LockRequest,
  NetCheckAnswer,
  NetCheckRequest,
  ProbeAnswer,
  ProbeRequest,
  RayEnvAnswer,
  ReachAnswer,
  ReachRequest,
  RemoteAnswer,
  StartAnswer,
  StartRequest,
  StatusAnswer,
  StatusRequest,
  StopAnswer,
  StopRequest,
  SuperviseAnswer,
  SuperviseRequest,
  UnlockRequest,
} from './types';

/** What the client needs of an SSH connection (src/ssh's NodeConnection has it). */
export interface RemoteShell {
  exec(
    command: string,
    opts?: {
      stdin?: string;
      timeoutMs?: number;
      onStdout?: (chunk: string) => void;
      onStderr?: (chunk: string) => void;
      signal?: AbortSignal;
    },
  ): Promise<{ code: number | null; signal?: string; stdout: string; stderr: string; aborted?: boolean }>;
  uploadFile(content: Buffer | string, remotePath: string, mode?: number): Promise<void>;
  readFile(remotePath: string, maxBytes?: number): Promise<Buffer>;
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
/** `run` could not start the command: its stderr has RUN_ERROR_PREFIX and remote_lib's answer. */
const RUN_FAILED = 125;
const RUN_ERROR_PREFIX = 'nokube-remote-error: ';

type ExecExtras = NonNullable<Parameters<RemoteShell['exec']>[1]>;

/** remote_lib's JSON answer, or a RemoteError with the end of its stderr when there is none. */
function parseAnswer<T>(verb: string, text: string, res: { code: number | null; signal?: string; stderr: string }): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    const tail = res.stderr.trim().split('\n').slice(-5).join('\n');
    throw new RemoteError(
      `remote_lib ${verb} failed (exit ${res.code ?? res.signal})${tail ? `: ${tail}` : ''}`,
      'run with NOKUBE_DEBUG=1 to see the remote command and its output',
      res.stderr,
    );
  }
}

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
  /** ray_spec.install: the Ray version whose tool-installed venv, once there, is the node's Ray. */
  rayVenv?: string;
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

  /** A path under the storage as a shell word: `$HOME` stays expandable for the default storage. */
  private storageWord(rel = ''): string {
    const tail = rel ? `/${rel}` : '';
    if (this.opts.storage) return shq(`${this.opts.storage}${tail}`);
    return `"$HOME"/${shq(`.nokube/${this.opts.cluster}${tail}`)}`;
  }

  /** The storage path is checked (and its lib/ made, 0700) on the node before anything is written there. */
  private async prepareStorage(base: string): Promise<void> {
    const python = this.opts.python ?? 'python3';
    const res = await this.shell.exec(`exec ${shq(python)} -c ${shq(PREPARE_STORAGE)} ${this.storageWord()}`, {
      timeoutMs: this.opts.timeoutMs,
    });
    if (res.code === 0) return;
    if (res.code === 3 && res.stdout.trim()) {
      throw new RemoteError(
        `${res.stdout.trim()}: refused before anything was written there`,
        `the storage path holds the cluster's token and the code nokube runs: make it and its parents belong to the login user or root and not writable by others (sudo chown <user> ${base}; chmod go-w ${base}), or set storage.path to such a directory`,
      );
    }
    if (res.code === 127) {
      throw new RemoteError(
        `the interpreter "${python}" was not found on the node`,
        'install Python 3.8+ on the node, or set ray_spec.python to its path',
        res.stderr,
      );
    }
    throw new RemoteError(
      `cannot prepare the storage path ${base} (exit ${res.code ?? res.signal}): ${res.stderr.trim().split('\n').slice(-3).join(' ')}`,
      'run with NOKUBE_DEBUG=1 to see the remote command and its output',
      res.stderr,
    );
  }

  private async upload(): Promise<void> {
    const base = this.opts.storage ?? `${await this.shell.realpath('.')}/.nokube/${this.opts.cluster}`;
    await this.prepareStorage(base);
    try {
      await this.shell.uploadFile(this.lib.content, `${base}/lib/${this.fileName}`, 0o600);
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

  /** Runs a verb once (uploading the library first when the node lacks it); the raw exec result. */
  private async execVerb(verb: string, input: object, extra: ExecExtras = {}) {
    const python = this.opts.python ?? 'python3';
    // A file whose content no longer matches its hash (changed on the node) counts as missing:
    // it is uploaded again, never run.
    const line = `exec ${shq(python)} -c ${shq(LOAD_CHECKED)} ${this.storageWord(`lib/${this.fileName}`)} ${this.lib.sha256} ${verb}`;
    const stdin = JSON.stringify({
      cluster: this.opts.cluster,
      storage: this.opts.storage ?? null,
      ...(this.opts.rayVenv ? { ray_venv: this.opts.rayVenv } : {}),
      ...input,
    });
    this.opts.debug?.(`remote: ${verb} (${line})`);
    const options = { stdin, timeoutMs: this.opts.timeoutMs, ...extra };
    let t0 = Date.now();
    let res = await this.shell.exec(line, options);
    if (res.code === MISSING_LIB && !this.uploaded) {
      this.opts.debug?.(`remote: uploading ${this.fileName}`);
      const u0 = Date.now();
      await this.upload();
      t0 = Date.now();
      this.opts.timed?.('upload', u0, t0);
      res = await this.shell.exec(line, options);
    }
    this.opts.timed?.(verb, t0, Date.now());
    return { res, python };
  }

  /** `timeoutMs` overrides the per-call timeout (a drain or an install may take longer than one command). */
  async call<T extends RemoteAnswer>(verb: string, input: object, timeoutMs?: number): Promise<T> {
    const { res, python } = await this.execVerb(verb, input, timeoutMs ? { timeoutMs } : {});
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
    return parseAnswer<T>(verb, res.stdout, res);
  }

  /**
   * A verb that streams: each stdout line with an `event` key is handed to `onEvent` as it comes;
   * the line without one (the last) is the answer. An aborted call answers `{ok: false, aborted: true}`.
   */
  async stream<T extends RemoteAnswer>(
    verb: string,
    input: Record<string, unknown>,
    onEvent: (event: Record<string, unknown>) => void,
    extra: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<T & { aborted?: boolean }> {
    let pending = '';
    let last = '';
    const onStdout = (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.trim()) take(line);
      }
    };
    // events carry an `event` key and go on at once; the line without one is the answer
    const take = (line: string) => {
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        parsed = undefined;
      }
      if (parsed && typeof parsed.event === 'string') onEvent(parsed);
      else last = line;
    };
    const { res } = await this.execVerb(verb, input, { ...extra, onStdout });
    if (res.aborted) return { ok: false, aborted: true } as T & { aborted?: boolean };
    if (res.stderr.trim()) this.opts.debug?.(`remote ${verb} stderr:\n${res.stderr.trimEnd()}`);
    if (pending.trim()) take(pending);
    return parseAnswer<T>(verb, last.trim(), res);
  }

  /**
   * Runs `argv` on the node in its Ray environment (the `run` verb replaces itself with the command):
   * output streams to the callbacks, the exit status is the command's. When the command could not be
   * started, throws a RemoteError saying why (exit 125 and remote_lib's answer on stderr).
   */
  async run(
    input: Record<string, unknown> & { argv: string[] },
    extra: Omit<ExecExtras, 'stdin'> = {},
  ): Promise<{ code: number | null; signal?: string; stdout: string; stderr: string; aborted?: boolean }> {
    // stderr goes on line by line so remote_lib's own error line never reaches the caller's output
    let held = '';
    const onStderr = extra.onStderr
      ? (chunk: string) => {
          held += chunk;
          const cut = held.lastIndexOf('\n');
          if (cut < 0) return;
          const lines = held.slice(0, cut + 1);
          held = held.slice(cut + 1);
          const shown = lines
            .split(/(?<=\n)/)
            .filter((l) => !l.startsWith(RUN_ERROR_PREFIX))
            .join('');
          if (shown) extra.onStderr!(shown);
        }
      : undefined;
    const { res } = await this.execVerb('run', input, { ...extra, ...(onStderr ? { onStderr } : {}) });
    if (held && extra.onStderr && !held.startsWith(RUN_ERROR_PREFIX)) extra.onStderr(held);
    const marker = res.stderr.split('\n').find((l) => l.startsWith(RUN_ERROR_PREFIX));
    if (res.code === RUN_FAILED && marker) {
      const answer = JSON.parse(marker.slice(RUN_ERROR_PREFIX.length)) as RemoteAnswer & { exit_code?: number };
      throw Object.assign(new RemoteError(answer.error ?? 'the command could not be started', answer.hint), {
        exitCode: answer.exit_code ?? RUN_FAILED,
      });
    }
    if (res.code === 127 && /not found/.test(res.stderr) && !res.stdout) {
      throw new RemoteError(
        `the interpreter "${this.opts.python ?? 'python3'}" was not found on the node`,
        'install Python 3.8+ on the node, or set ray_spec.python to its path',
        res.stderr,
      );
    }
    return { ...res, stderr: res.stderr.replace(/^nokube-remote-error: .*\n?/m, '') };
  }

  rayEnv(input: Record<string, unknown>): Promise<RayEnvAnswer> {
    return this.call<RayEnvAnswer>('ray_env', input);
  }
  job<T extends RemoteAnswer = JobAnswer>(input: JobActionRequest): Promise<T> {
    return this.call<T>('job', input);
  }

  /** Uploads a file under the node's storage (`<storage>/<rel>`); returns its absolute path. */
  async uploadToStorage(rel: string, content: Buffer, mode = 0o600): Promise<string> {
    const base = this.opts.storage ?? `${await this.shell.realpath('.')}/.nokube/${this.opts.cluster}`;
    const path = `${base}/${rel}`;
    await this.shell.mkdirp(path.slice(0, path.lastIndexOf('/')));
    await this.shell.uploadFile(content, path, mode);
    return path;
  }

  probe(input: ProbeRequest): Promise<ProbeAnswer> {
    return this.call<ProbeAnswer>('probe', input);
  }
  start(input: StartRequest): Promise<StartAnswer> {
    return this.call<StartAnswer>('start', input);
  }
  status(input: StatusRequest): Promise<StatusAnswer> {
    return this.call<StatusAnswer>('status', input);
  }
  stop(input: StopRequest): Promise<StopAnswer> {
    return this.call<StopAnswer>('stop', input);
  }
  /** The cluster's packages in the node's Ray environment (read-only). */
  packages(input: PackagesRequest): Promise<PackagesAnswer> {
    return this.call<PackagesAnswer>('packages', input, 180_000);
  }
  /** Head: one task on every alive node imports the cluster's packages (status --deep). */
  imports(input: ImportsRequest): Promise<ImportsAnswer> {
    return this.call<ImportsAnswer>('imports', input, (input.timeout_sec + 90) * 1000);
  }
  /** Installs Ray and the cluster's packages into a venv under the storage path (nothing when there already). */
  install(input: InstallRequest, timeoutMs: number): Promise<InstallAnswer> {
    return this.call<InstallAnswer>('install', input, timeoutMs);
  }
  /** Head: drains one node through Ray's GCS and waits (up to `deadline_sec`) until it has left. */
  drain(input: DrainRequest, timeoutMs: number): Promise<DrainAnswer> {
    return this.call<DrainAnswer>('drain', input, timeoutMs);
  }
  /**
   * The node packs its logs into one bounded archive; it is read here and removed from the node (a
   * failed removal is left to the node's clean-up: the bundle is in hand). No bundle when !ok.
   */
  async logs(input: LogsRequest, maxBundleBytes: number): Promise<{ answer: LogsAnswer; bundle?: Buffer }> {
    const answer = await this.call<LogsAnswer>('logs', input);
    if (!answer.ok) return { answer };
    // the node names the file and its size: both are checked here, not believed
    if (typeof answer.archive !== 'string' || !answer.archive.includes('/logs/bundles/logs-')) {
      throw new RemoteError(
        `the node named ${JSON.stringify(answer.archive)} as its log bundle, not a file of its logs/bundles/`,
      );
    }
    let bundle: Buffer;
    try {
      bundle = await this.shell.readFile(answer.archive, maxBundleBytes);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      throw new RemoteError(
        `the log bundle is larger than ${maxBundleBytes} bytes (the cap for this node's logs): not read further`,
        'collect less (--since), or look at the node itself',
      );
    } finally {
      await this.removeFile(answer.archive);
    }
    return { answer, bundle };
  }
  /** Removes a file the library left on the node for us (`rm -f`); never fails the caller. */
  private async removeFile(path: string): Promise<void> {
    await this.shell.exec(`rm -f -- ${shq(path)}`).catch(() => undefined);
  }
  /** Holds ports open for a moment; `onReady` once they are bound (the answer comes when the listener ends). */
  listen(
    input: ListenRequest,
    onReady: (ready: ListenReady) => void,
    signal?: AbortSignal,
  ): Promise<ListenAnswer & { aborted?: boolean }> {
    return this.stream<ListenAnswer>(
      'listen',
      { ...input },
      (e) => {
        if (e.event === 'ready') onReady(e as unknown as ListenReady);
      },
      signal ? { signal } : {},
    );
  }
  /** TCP connects to each target at once (nothing sent), each within `timeout_ms`. */
  reach(input: ReachRequest): Promise<ReachAnswer> {
    return this.call<ReachAnswer>('reach', input);
  }
  /** Head: a Ray program moves an object between each pair of nodes (its own deadline, plus Ray's start-up). */
  netCheck(input: NetCheckRequest, timeoutMs: number): Promise<NetCheckAnswer> {
    return this.call<NetCheckAnswer>('net_check', input, timeoutMs);
  }
  /** The node's supervisor: paused before a drain, or its state. */
  supervise(input: SuperviseRequest): Promise<SuperviseAnswer> {
    return this.call<SuperviseAnswer>('supervise', input);
  }
  lock(input: LockRequest): Promise<LockAnswer> {
    return this.call<LockAnswer>('lock', input);
  }
  unlock(input: UnlockRequest): Promise<LockAnswer> {
    return this.call<LockAnswer>('unlock', input);
  }
}
