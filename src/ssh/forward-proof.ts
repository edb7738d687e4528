// Who may use the dashboard forward. Its port on 127.0.0.1 is open to every local user and to any web
// page (by DNS rebinding), so the cluster's token is added only to requests that prove they come from
// the user who ran the command, as Jupyter's server does: a one-time URL, printed by the command, sets
// an HttpOnly cookie holding a second secret. A Host that is not the forward's own address, or a
// foreign Origin, is refused outright (DNS rebinding). The pure parts; local-forward.ts applies them.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The query parameter of the one-time URL. */
export const URL_SECRET_PARAM = 'nokube_token';

export interface ForwardProof {
  /** Opens the door once: `http://127.0.0.1:<port>/?nokube_token=<urlSecret>`. */
  urlSecret: string;
  /** The cookie's value, which every later request carries. */
  sessionSecret: string;
  /** Set when the URL secret has been used: it never works again. */
  urlUsed: boolean;
}

export function newForwardProof(): ForwardProof {
  const secret = () => randomBytes(32).toString('base64url');
  return { urlSecret: secret(), sessionSecret: secret(), urlUsed: false };
}

/** Cookies are shared by every port of a host, so each forward's cookie carries its port in its name. */
export function cookieName(port: number): string {
  return `nokube_dashboard_${port}`;
}

/** The names a browser or a script uses for this forward: 127.0.0.1, localhost, [::1], with its port. */
function ownHostnames(): string[] {
  return ['127.0.0.1', 'localhost', '[::1]'];
}

/** Whether a request's Host header names the forward itself (not a rebound name like evil.example). */
export function hostAllowed(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const h = host.trim().toLowerCase();
  return ownHostnames().some((name) => h === `${name}:${port}` || (port === 80 && h === name));
}

/** Whether an Origin header is absent (not a browser's cross-origin request) or the forward's own. */
export function originAllowed(origin: string | undefined, port: number): boolean {
  if (origin === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin.trim());
  } catch {
    return false; // "null" (a sandboxed frame, a file: page) and anything unparsable
  }
  if (url.protocol !== 'http:') return false;
  const effective = url.port === '' ? 80 : Number(url.port);
  return effective === port && ownHostnames().includes(url.hostname.toLowerCase());
}

/** The cookies of a Cookie header, by name (the first of a repeated name wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}

/** The Cookie header without this forward's own cookie (the head never sees it); undefined when empty. */
export function cookiesWithout(header: string | undefined, name: string): string | undefined {
  const kept = (header ?? '')
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p && p.slice(0, Math.max(0, p.indexOf('='))).trim() !== name);
  return kept.length ? kept.join('; ') : undefined;
}

/** Equal secrets, compared in constant time (digests first, so a length tells nothing either). */
export function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export type ProofVerdict =
  /** Foreign Host or Origin: 403, nothing forwarded. */
  | { kind: 'refuse'; status: 403; why: string }
  /** No proof: 401 with a page that says to open the printed URL. */
  | { kind: 'refuse'; status: 401; why: string }
  /** The one-time URL: set the cookie, redirect to the same path without the secret. */
  | { kind: 'login'; location: string }
  /** Proven: forward with the token, the path and Cookie header given here. */
  | { kind: 'forward'; path: string; cookie: string | undefined };

export interface ProofRequest {
  url: string;
  host?: string;
  origin?: string;
  cookie?: string;
}

/**
 * What to do with one request on 127.0.0.1:port. The URL secret is spent by the first request that
 * carries it (the caller sets `urlUsed`); a spent one with a valid cookie just redirects.
 */
export function judgeRequest(req: ProofRequest, port: number, proof: ForwardProof): ProofVerdict {
  if (!hostAllowed(req.host, port))
    return {
      kind: 'refuse',
      status: 403,
      why: `the Host header is not this forward's address (http://127.0.0.1:${port}): refused, as a web page reaching it by DNS rebinding would be`,
    };
  if (!originAllowed(req.origin, port))
    return {
      kind: 'refuse',
      status: 403,
      why: `the request comes from another origin than http://127.0.0.1:${port}: refused`,
    };
  const cookies = parseCookies(req.cookie);
  const name = cookieName(port);
  const hasSession = sameSecret(cookies.get(name), proof.sessionSecret);
  const url = new URL(req.url, `http://127.0.0.1:${port}`);
  const given = url.searchParams.get(URL_SECRET_PARAM);
  if (given !== null) {
    url.searchParams.delete(URL_SECRET_PARAM);
    const location = url.pathname + url.search;
    if (!proof.urlUsed && sameSecret(given, proof.urlSecret)) return { kind: 'login', location };
    if (hasSession) return { kind: 'login', location };
    return {
      kind: 'refuse',
      status: 401,
      why: 'this link was used already (it opens the dashboard once, in one browser)',
    };
  }
  if (!hasSession)
    return { kind: 'refuse', status: 401, why: 'this request does not carry the proof that nokube ray dashboard gave' };
  return { kind: 'forward', path: req.url, cookie: cookiesWithout(req.cookie, name) };
}

/** The Set-Cookie header of a login: the browser's session only, never sent by another site's page. */
export function sessionCookie(port: number, proof: ForwardProof): string {
  return `${cookieName(port)}=${proof.sessionSecret}; Path=/; HttpOnly; SameSite=Strict`;
}
