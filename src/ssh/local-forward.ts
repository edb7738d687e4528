// Local port forwards: listeners on 127.0.0.1 whose every connection is carried by a stream the
// caller opens (an SSH connection's forwardOut). Plain TCP for Ray Client; HTTP for the dashboard,
// where each request that proves it comes from the command's user (forward-proof.ts) gets headers
// added (the cluster's token), WebSocket upgrades included; any other request is refused here.
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
  type ServerResponse,
} from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { judgeRequest, sessionCookie, URL_SECRET_PARAM, type ForwardProof, type ProofVerdict } from './forward-proof';

export type OpenStream = () => Promise<Duplex>;

export interface LocalForward {
  /** The local port actually bound. */
  port: number;
  close(): Promise<void>;
}

/** A local port that cannot be bound (in use, not allowed): the message names it. */
export class LocalPortError extends Error {
  constructor(
    readonly port: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'LocalPortError';
  }
}

const LOOPBACK = '127.0.0.1';

function listen(server: Server, port: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? 'is already in use on this machine'
          : err.code === 'EACCES'
            ? 'may not be bound by this user'
            : `cannot be bound (${err.code ?? err.message})`;
      reject(new LocalPortError(port, err.code, `local port ${LOOPBACK}:${port} for ${what} ${why}`));
    };
    server.once('error', onError);
    server.listen(port, LOOPBACK, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

function closer(server: Server, sockets: Set<Duplex>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

/** Every connection to 127.0.0.1:port is piped to a stream from `open`. */
export async function forwardTcp(
  port: number,
  what: string,
  open: OpenStream,
  onError: (e: Error) => void,
): Promise<LocalForward> {
  const sockets = new Set<Duplex>();
  const server = createTcpServer((local: Socket) => {
    sockets.add(local);
    local.on('close', () => sockets.delete(local));
    local.on('error', () => local.destroy());
    local.pause();
    open().then(
      (remote) => {
        sockets.add(remote);
        remote.on('close', () => {
          sockets.delete(remote);
          local.destroy();
        });
        remote.on('error', () => local.destroy());
        local.on('close', () => remote.destroy());
        local.pipe(remote).pipe(local);
        local.resume();
      },
      (err: Error) => {
        onError(err);
        local.destroy();
      },
    );
  });
  const bound = await listen(server, port, what);
  return { port: bound, close: closer(server, sockets) };
}

/** The page of a refused request: what to do, no secret. */
function refusalPage(status: 401 | 403, why: string, port: number): string {
  const todo =
    status === 401
      ? `Open the URL that <code>nokube ray dashboard</code> printed (http://127.0.0.1:${port}/?${URL_SECRET_PARAM}=…) in this browser; it works once. For another browser, run <code>nokube ray dashboard</code> again. Scripts: <code>nokube ray dashboard --json</code> prints a cookie to send.`
      : `Open the dashboard at http://127.0.0.1:${port}/ (the URL that <code>nokube ray dashboard</code> printed).`;
  const text = why.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>nokube: ${status === 401 ? 'open the printed URL' : 'refused'}</title></head><body><p>nokube ray dashboard: ${text}.</p><p>${todo}</p></body></html>\n`;
}

function judge(req: IncomingMessage, port: number, proof: ForwardProof): ProofVerdict {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  return judgeRequest(
    { url: req.url ?? '/', host: one(req.headers.host), origin: one(req.headers.origin), cookie: req.headers.cookie },
    port,
    proof,
  );
}

/** Answers a request that is not forwarded: refused, or the one-time URL's login (cookie + redirect). */
function answerLocally(
  res: ServerResponse,
  verdict: Exclude<ProofVerdict, { kind: 'forward' }>,
  port: number,
  proof: ForwardProof,
) {
  if (verdict.kind === 'login') {
    proof.urlUsed = true;
    res.writeHead(302, {
      location: verdict.location,
      'set-cookie': sessionCookie(port, proof),
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    });
    res.end();
    return;
  }
  res.writeHead(verdict.status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(refusalPage(verdict.status, verdict.why, port));
}

/**
 * An HTTP proxy on 127.0.0.1:port to the server `open` reaches. Only requests that carry `proof`
 * (forward-proof.ts) are forwarded, with `headers` added where the client did not send them (an
 * explicit header from the client wins); the others are answered here and never reach the server.
 */
export async function forwardHttp(
  port: number,
  what: string,
  open: OpenStream,
  headers: Record<string, string>,
  proof: ForwardProof,
  onError: (e: Error) => void,
): Promise<LocalForward> {
  const sockets = new Set<Duplex>();
  const withHeaders = (req: IncomingMessage, cookie: string | undefined): Record<string, string | string[]> => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = v;
    // the forward's own cookie stays here
    if (cookie === undefined) delete out.cookie;
    else out.cookie = cookie;
    for (const [k, v] of Object.entries(headers)) if (out[k.toLowerCase()] === undefined) out[k.toLowerCase()] = v;
    return out;
  };
  let bound = port;
  const server = createHttpServer((req, res) => {
    const verdict = judge(req, bound, proof);
    if (verdict.kind !== 'forward') {
      req.resume();
      answerLocally(res, verdict, bound, proof);
      return;
    }
    const upstream = httpRequest({
      method: req.method,
      path: verdict.path,
      headers: withHeaders(req, verdict.cookie),
      // no agent: one stream per request (ssh2 channels are not net.Sockets, so no keep-alive pool)
      createConnection: (_opts: unknown, cb: (err: Error | null, s?: Duplex) => void) => {
        open().then(
          (s) => {
            sockets.add(s);
            s.on('close', () => sockets.delete(s));
            cb(null, s);
          },
          (err: Error) => cb(err),
        );
        return undefined;
      },
    } as unknown as RequestOptions);
    upstream.on('response', (up) => {
      res.writeHead(up.statusCode ?? 502, up.rawHeaders);
      up.pipe(res);
    });
    upstream.on('error', (err) => {
      onError(err);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`nokube: ${what} cannot be reached: ${err.message}\n`);
    });
    req.pipe(upstream);
  });
  server.on('upgrade', (req: IncomingMessage, local: Duplex, head: Buffer) => {
    sockets.add(local);
    local.on('error', () => local.destroy());
    const verdict = judge(req, bound, proof);
    if (verdict.kind !== 'forward') {
      const status = verdict.kind === 'refuse' ? verdict.status : 401;
      local.end(
        `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
      );
      return;
    }
    open().then(
      (remote) => {
        sockets.add(remote);
        const lines = [`${req.method} ${verdict.path} HTTP/1.1`];
        for (const [k, v] of Object.entries(withHeaders(req, verdict.cookie)))
          for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
        remote.write(lines.join('\r\n') + '\r\n\r\n');
        if (head.length) remote.write(head);
        remote.on('close', () => local.destroy());
        local.on('close', () => remote.destroy());
        remote.on('error', () => local.destroy());
        local.pipe(remote).pipe(local);
      },
      (err: Error) => {
        onError(err);
        local.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n');
      },
    );
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  bound = await listen(server, port, what);
  return { port: bound, close: closer(server, sockets) };
}
