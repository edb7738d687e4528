// The dashboard forward gives the cluster's token to its user only: the pure checks (Host, Origin,
// cookies, the one-time URL), then the forward itself in front of a plain local HTTP server that
// records what reaches it (the e2e test in day-two.test.ts does the same through SSH to a real Ray).
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cookieName,
  cookiesWithout,
  hostAllowed,
  judgeRequest,
  newForwardProof,
  originAllowed,
  parseCookies,
  sameSecret,
} from '../../src/ssh/forward-proof';
import { forwardHttp, type LocalForward } from '../../src/ssh/local-forward';

describe('forward proof: the pure checks', () => {
  it("accepts only the forward's own address as Host", () => {
    for (const h of ['127.0.0.1:8265', 'localhost:8265', 'LOCALHOST:8265', '[::1]:8265'])
      expect(hostAllowed(h, 8265), h).toBe(true);
    for (const h of [
      undefined,
      '',
      'evil.example:8265',
      '127.0.0.1',
      '127.0.0.1:8266',
      'localhost.evil.example:8265',
      '127.0.0.2:8265',
      '0.0.0.0:8265',
      '10.0.0.1:8265',
    ])
      expect(hostAllowed(h, 8265), String(h)).toBe(false);
    expect(hostAllowed('127.0.0.1', 80)).toBe(true);
  });

  it('accepts no Origin, or its own; refuses a foreign one, null and https', () => {
    expect(originAllowed(undefined, 8265)).toBe(true);
    for (const o of ['http://127.0.0.1:8265', 'http://localhost:8265', 'http://[::1]:8265'])
      expect(originAllowed(o, 8265), o).toBe(true);
    for (const o of [
      'http://evil.example:8265',
      'http://127.0.0.1:8266',
      'http://127.0.0.1',
      'https://127.0.0.1:8265',
      'null',
      '',
      'file://',
    ])
      expect(originAllowed(o, 8265), o).toBe(false);
  });

  it('parses cookies, and removes its own before the request goes on', () => {
    const c = parseCookies('a=1; nokube_dashboard_8265=s3cr3t ; b="q"; a=2; junk; =x');
    expect(Object.fromEntries(c)).toEqual({ a: '1', nokube_dashboard_8265: 's3cr3t', b: 'q' });
    expect(parseCookies(undefined).size).toBe(0);
    expect(cookiesWithout('a=1; nokube_dashboard_8265=x; b=2', 'nokube_dashboard_8265')).toBe('a=1; b=2');
    expect(cookiesWithout('nokube_dashboard_8265=x', 'nokube_dashboard_8265')).toBeUndefined();
  });

  it('compares secrets whole, whatever their lengths', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abd', 'abc')).toBe(false);
    expect(sameSecret('ab', 'abc')).toBe(false);
    expect(sameSecret('', 'abc')).toBe(false);
    expect(sameSecret(undefined, 'abc')).toBe(false);
  });

  it('lets the one-time URL in once, then only its cookie', () => {
    const proof = newForwardProof();
    expect(proof.urlSecret).not.toBe(proof.sessionSecret);
    expect(proof.urlSecret.length).toBeGreaterThanOrEqual(43); // 32 random bytes
    const host = '127.0.0.1:8265';
    const first = judgeRequest({ url: `/?nokube_token=${proof.urlSecret}`, host }, 8265, proof);
    expect(first).toEqual({ kind: 'login', location: '/' });
    proof.urlUsed = true;
    const again = judgeRequest({ url: `/?nokube_token=${proof.urlSecret}`, host }, 8265, proof);
    expect(again).toMatchObject({ kind: 'refuse', status: 401 });
    const cookie = `${cookieName(8265)}=${proof.sessionSecret}`;
    expect(judgeRequest({ url: `/?nokube_token=${proof.urlSecret}`, host, cookie }, 8265, proof)).toEqual({
      kind: 'login',
      location: '/',
    });
    expect(judgeRequest({ url: '/api/version', host, cookie }, 8265, proof)).toEqual({
      kind: 'forward',
      path: '/api/version',
      cookie: undefined,
    });
    expect(judgeRequest({ url: '/api/version', host }, 8265, proof)).toMatchObject({ kind: 'refuse', status: 401 });
    expect(judgeRequest({ url: '/', host, cookie: `${cookieName(8265)}=wrong` }, 8265, proof)).toMatchObject({
      kind: 'refuse',
      status: 401,
    });
    // a wrong URL secret is no login
    const fresh = newForwardProof();
    expect(judgeRequest({ url: '/?nokube_token=guess', host }, 8265, fresh)).toMatchObject({ status: 401 });
    // the proof does not help a foreign Host or Origin
    expect(judgeRequest({ url: '/', host: 'evil.example:8265', cookie }, 8265, proof)).toMatchObject({ status: 403 });
    expect(judgeRequest({ url: '/', host, origin: 'http://evil.example:8265', cookie }, 8265, proof)).toMatchObject({
      status: 403,
    });
  });
});

describe('forwardHttp: the token reaches the server only with the proof', () => {
  let upstream: Server;
  let seen: IncomingHttpHeaders[] = [];
  let forward: LocalForward;
  const proof = newForwardProof();

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`upstream ${req.url}`);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const upPort = (upstream.address() as AddressInfo).port;
    forward = await forwardHttp(
      0,
      'the dashboard',
      async () => connect(upPort, '127.0.0.1'),
      { authorization: 'Bearer cluster-token' },
      proof,
      () => undefined,
    );
  });
  afterAll(async () => {
    await forward.close();
    upstream.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port: forward.port, path, headers }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      r.on('error', reject);
      r.end();
    });

  it('refuses a request without the proof (401, nothing forwarded), a foreign Host or Origin (403)', async () => {
    seen = [];
    const plain = await get('/api/jobs/');
    expect(plain.status).toBe(401);
    expect(plain.body).toContain('Open the URL that <code>nokube ray dashboard</code> printed');
    expect(plain.body).not.toContain(proof.urlSecret);
    const rebound = await get('/api/jobs/', { host: `evil.example:${forward.port}` });
    expect(rebound.status).toBe(403);
    const foreign = await get('/', { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(seen).toEqual([]);
  });

  it('the one-time URL sets an HttpOnly SameSite=Strict cookie and redirects; the cookie gets the token added', async () => {
    seen = [];
    const login = await get(`/?nokube_token=${proof.urlSecret}`);
    expect(login.status).toBe(302);
    expect(login.headers.location).toBe('/');
    const setCookie = login.headers['set-cookie']![0];
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = setCookie.split(';')[0];
    expect(cookie).toBe(`${cookieName(forward.port)}=${proof.sessionSecret}`);
    const page = await get('/api/version', { cookie: `${cookie}; other=1` });
    expect(page.status).toBe(200);
    expect(page.body).toBe('upstream /api/version');
    expect(seen).toHaveLength(1);
    expect(seen[0].authorization).toBe('Bearer cluster-token');
    expect(seen[0].cookie).toBe('other=1'); // the forward's own cookie stays local
    // spent: the same URL without the cookie lets nobody in
    expect((await get(`/?nokube_token=${proof.urlSecret}`)).status).toBe(401);
    expect(seen).toHaveLength(1);
  });

  it('refuses a WebSocket upgrade without the proof', async () => {
    const reply = await new Promise<string>((resolve) => {
      const s = connect(forward.port, '127.0.0.1');
      let data = '';
      s.on('data', (d) => (data += d.toString()));
      s.on('close', () => resolve(data));
      s.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${forward.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    expect(reply).toMatch(/^HTTP\/1\.1 401/);
  });
});
