// `ray_spec.gcs_fault_tolerance`: the Redis the head keeps Ray's cluster state in. Its address is
// host:port (the port required: Redis has no port a reader could assume here), its password a
// credential like a login's: `${NAME}` best, a literal with a warning, never echoed.
import { isIPv4, isIPv6 } from 'node:net';
import { checkPassword, type NodeCheckContext } from './node-checks';
import { asMap, asString, type PlainMap } from './plain';

export type RedisAddressResult =
  { ok: true; host: string; port: number } | { ok: false; message: string; hint: string };

const EXAMPLE = 'e.g. "redis.internal:6379", "10.0.0.7:6379" or "[2001:db8::7]:6379"';
const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/;

export function parseRedisAddress(text: string): RedisAddressResult {
  const fail = (message: string, hint: string): RedisAddressResult => ({ ok: false, message, hint });
  const address = text.trim();
  if (address.includes('${'))
    return fail('redis_address cannot use ${...}', 'only redis_password is read from the environment');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(address);
  if (scheme) {
    const rest = address.slice(scheme[0].length).replace(/^[^@/]*@/, '');
    return fail(
      `redis_address takes host:port, not a URL (${scheme[1]}://)`,
      `write "${rest || 'host:6379'}"; a password goes in redis_password`,
    );
  }
  if (address.includes('@'))
    return fail('redis_address cannot hold a user or password', 'write host:port; the password goes in redis_password');
  let host: string;
  let port: string;
  if (address.startsWith('[')) {
    const m = /^\[([^\]]*)\]:(\d+)$/.exec(address);
    if (!m || !isIPv6(m[1]!))
      return fail(`"${address.slice(0, 60)}" is not [IPv6]:port`, `write host:port, ${EXAMPLE}`);
    [host, port] = [m[1]!, m[2]!];
  } else {
    const colon = address.lastIndexOf(':');
    if (colon < 0)
      return fail(
        `"${address.slice(0, 60)}" has no port`,
        `write host:port, ${EXAMPLE} (Redis's default port is 6379)`,
      );
    host = address.slice(0, colon);
    port = address.slice(colon + 1);
    if (isIPv6(address) || isIPv6(host)) return fail('an IPv6 address needs brackets', `write "[${host}]:${port}"`);
    if (!isIPv4(host) && !HOST_NAME.test(host))
      return fail(`"${host.slice(0, 60)}" is not a host name or IP address`, `write host:port, ${EXAMPLE}`);
  }
  const number = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
  if (!(number >= 1 && number <= 65535))
    return fail(`"${port.slice(0, 20)}" is not a port from 1 to 65535`, `write host:port, ${EXAMPLE}`);
  return { ok: true, host, port: number };
}

export function checkGcsFaultTolerance(raySpec: PlainMap | undefined, ctx: NodeCheckContext): void {
  const section = asMap(raySpec?.gcs_fault_tolerance);
  if (!section) return;
  const at = 'ray_spec.gcs_fault_tolerance';
  const address = asString(section.redis_address);
  if (address !== undefined && !ctx.shapeProblems.has(`${at}.redis_address`)) {
    const parsed = parseRedisAddress(address);
    if (!parsed.ok) ctx.findings.error(`${at}.redis_address`, parsed.message, { hint: parsed.hint });
  }
  const password = asString(section.redis_password);
  if (password !== undefined && !ctx.shapeProblems.has(`${at}.redis_password`)) {
    checkPassword(
      password,
      `${at}.redis_password`,
      ctx,
      'write redis_password: ${ENV_NAME} and map a secret into that variable',
    );
  }
}
