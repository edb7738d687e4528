// `dashboard`: read-only. Two local ports on 127.0.0.1, carried over the head's SSH connection: the
// dashboard (an HTTP proxy that adds the cluster's token to requests proven to come from this user: a
// one-time URL sets a cookie, see ssh/forward-proof.ts) and Ray Client (plain TCP; the head's Ray
// Client server wants the token, which Ray Client sends itself, from a local 0600 file).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Diagnostic } from '../config/types';
import { cookieName, newForwardProof, URL_SECRET_PARAM } from '../ssh/forward-proof';
import { forwardHttp, forwardTcp, LocalPortError, type LocalForward } from '../ssh/local-forward';
import { HeadUnavailable, headAccess } from './steps/head-access';
import type { ClusterSession, SessionOptions } from './steps/session';
import type { DashboardRequest, DashboardResult, RunError } from './types';

export type { DashboardForward, DashboardRequest, DashboardResult } from './types';

/** How often the head's connection is checked while the forwards are idle. */
const HEARTBEAT_MS = 10_000;
const LOCAL = '127.0.0.1';

/**
 * The story of `dashboard`. The session outlives it: the forwards hold the head's connection until
 * `forward.close()` (or, when they cannot open, it is closed here). `t0`: when the run began.
 */
export async function openDashboard(
  session: ClusterSession<SessionOptions>,
  req: DashboardRequest,
  diagnostics: Diagnostic[],
  t0: number,
): Promise<DashboardResult> {
  const { options } = session;
  const result: DashboardResult = { ok: false, invalid: false, diagnostics, errors: [], openMs: 0 };
  if (req.port === req.clientPort) {
    session.close();
    result.invalid = true;
    result.errors.push({
      message: `--port and --client-port are both ${req.port}`,
      hint: 'give the dashboard and Ray Client different local ports',
    });
    return result;
  }
  const forwards: LocalForward[] = [];
  let tokenDir: string | undefined;
  const removeTokenFile = () => {
    if (tokenDir) rmSync(tokenDir, { recursive: true, force: true });
  };
  const cleanup = async () => {
    removeTokenFile();
    await Promise.all(forwards.map((f) => f.close()));
    session.close();
  };
  try {
    const access = await headAccess(session, { withToken: true });
    const conn = access.head.conn!;
    const debug = (e: Error) => options.reporter.debug(`forward: ${e.message}`);
    // the dashboard where start bound it (every interface, or ray_config.dashboard_host), Ray Client on its node IP
    const toDashboard = () => conn.forwardOut(access.dashboardHost, access.ports.dashboard);
    const headers: Record<string, string> = access.token ? { authorization: `Bearer ${access.token}` } : {};
    const proof = newForwardProof();
    forwards.push(await forwardHttp(req.port, 'the dashboard', toDashboard, headers, proof, debug));
    const cookie = `${cookieName(forwards[0].port)}=${proof.sessionSecret}`;
    forwards.push(
      await forwardTcp(req.clientPort, 'Ray Client', () => conn.forwardOut(access.nodeIp, access.ports.client), debug),
    );
    const rayVersion = await dashboardVersion(forwards[0].port, cookie).catch((err: Error) => {
      options.reporter.warn(
        `the head's dashboard (${access.dashboardHost}:${access.ports.dashboard} on ${access.head.node.name}) does not answer yet: ${err.message}`,
      );
      return undefined;
    });
    const clientEnv: Record<string, string> = { RAY_AUTH_MODE: access.token ? 'token' : 'disabled' };
    let tokenFile: string | undefined;
    if (access.token) {
      tokenDir = mkdtempSync(join(tmpdir(), 'nokube-token-'));
      tokenFile = join(tokenDir, 'auth_token');
      writeFileSync(tokenFile, access.token, { mode: 0o600 });
      clientEnv.RAY_AUTH_TOKEN_PATH = tokenFile;
    }
    let stop: (e: RunError) => void = () => undefined;
    const ended = new Promise<RunError>((resolve) => (stop = resolve));
    // the head's connection, looked at while idle: a lost one ends the forwards instead of failing each request
    const heartbeat = setInterval(() => {
      conn.realpath('.').catch((err: Error) => {
        clearInterval(heartbeat);
        stop({
          node: access.head.node.name,
          host: access.head.node.sshUrl,
          message: `the SSH connection to the head was lost: ${err.message}`,
          hint: 'run nokube ray dashboard again',
        });
      });
    }, HEARTBEAT_MS);
    heartbeat.unref();
    result.forward = {
      dashboardUrl: `http://${LOCAL}:${forwards[0].port}`,
      openUrl: `http://${LOCAL}:${forwards[0].port}/?${URL_SECRET_PARAM}=${proof.urlSecret}`,
      cookie,
      clientAddress: `ray://${LOCAL}:${forwards[1].port}`,
      ...(rayVersion ? { rayVersion } : {}),
      ...(tokenFile ? { tokenFile } : {}),
      clientEnv,
      ended,
      close: async () => {
        clearInterval(heartbeat);
        await cleanup();
      },
      removeTokenFile,
    };
    result.ok = true;
  } catch (err) {
    await cleanup();
    if (err instanceof HeadUnavailable) result.errors.push(err.error);
    else if (err instanceof LocalPortError) {
      result.errors.push({
        message: err.message,
        hint:
          err.code === 'EADDRINUSE'
            ? `choose another with ${err.port === req.port ? '--port' : '--client-port'} N (is another nokube ray dashboard or a local Ray running?)`
            : 'choose a port above 1024',
      });
    } else throw err;
  }
  result.openMs = Date.now() - t0;
  return result;
}

/** GET /api/version through the local forward: proves the whole path, the proof and token included. */
function dashboardVersion(port: number, cookie: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const headers = { host: `${LOCAL}:${port}`, cookie };
    const r = request({ host: LOCAL, port, path: '/api/version', headers, timeout: 15_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${body.trim().slice(0, 200)}`));
        try {
          resolve((JSON.parse(body) as { ray_version?: string }).ray_version);
        } catch {
          resolve(undefined);
        }
      });
    });
    r.on('timeout', () => r.destroy(new Error('no answer within 15 s')));
    r.on('error', reject);
    r.end();
  });
}
