// `ssh_url`: where a node is reached. `host:port` with host = name, IPv4 or [IPv6]; port 22 when omitted.
import { isIPv4, isIPv6 } from 'node:net';

export const DEFAULT_SSH_PORT = 22;

export type SshUrlResult = { ok: true; host: string; port: number } | { ok: false; message: string; hint: string };

const EXAMPLE = 'e.g. "prod-server-1:22", "10.0.0.5", "[2001:db8::5]:2222"';

export function parseSshUrl(text: string): SshUrlResult {
  const fail = (message: string, hint: string): SshUrlResult => ({ ok: false, message, hint });
  const url = text.trim();
  if (url === '') return fail('ssh_url is empty', `write host or host:port, ${EXAMPLE}`);
  if (/\$\{/.test(url))
    return fail(
      'ssh_url cannot use ${...}',
      'only credentials under users are read from the environment: write the host literally',
    );
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  if (scheme) {
    const rest = url
      .slice(scheme[0].length)
      .replace(/^[^@/]*@/, '')
      .replace(/\/.*$/, '');
    return fail(
      `ssh_url takes host:port, not a URL with a scheme (${scheme[1]}://)`,
      `drop the scheme: "${rest || 'host:22'}"`,
    );
  }
  if (/\s/.test(url)) return fail('ssh_url contains spaces', `write host or host:port, ${EXAMPLE}`);
  if (url.includes('@')) {
    return fail(
      'ssh_url cannot hold the login user (user@host)',
      `write only the host ("${url.slice(url.lastIndexOf('@') + 1)}") and put the user under users: - userid: ${url.slice(0, url.indexOf('@')) || 'NAME'} (or pass --user / the ssh-user input)`,
    );
  }

  let host: string;
  let portText: string | undefined;
  if (url.startsWith('[')) {
    const close = url.indexOf(']');
    if (close < 0) return fail('ssh_url has "[" without "]"', 'write an IPv6 address as [2001:db8::5]:22');
    host = url.slice(1, close);
    const after = url.slice(close + 1);
    if (after !== '' && !after.startsWith(':'))
      return fail(`unexpected "${after}" after "]"`, 'write [IPv6]:port, e.g. [2001:db8::5]:22');
    portText = after === '' ? undefined : after.slice(1);
    if (!isIPv6(host))
      return fail(
        `"${host}" in brackets is not an IPv6 address`,
        'brackets are only for IPv6 addresses; write a host name or IPv4 without them',
      );
  } else {
    const colons = url.split(':').length - 1;
    if (colons > 1) {
      const lastColon = url.lastIndexOf(':');
      if (isIPv6(url)) {
        // `2001:db8::10:22` is itself an address: it may or may not end in a port.
        const withPort = isIPv6(url.slice(0, lastColon))
          ? ` or, if ${url.slice(lastColon + 1)} is the port, "[${url.slice(0, lastColon)}]:${url.slice(lastColon + 1)}"`
          : '';
        return fail('an IPv6 address in ssh_url needs brackets', `write "[${url}]:22"${withPort}`);
      }
      if (isIPv6(url.slice(0, lastColon))) {
        return fail(
          'an IPv6 address in ssh_url needs brackets',
          `write "[${url.slice(0, lastColon)}]:${url.slice(lastColon + 1)}"`,
        );
      }
      return fail(`"${url}" is not host:port`, `write host or host:port, ${EXAMPLE}`);
    }
    const colon = url.indexOf(':');
    host = colon < 0 ? url : url.slice(0, colon);
    portText = colon < 0 ? undefined : url.slice(colon + 1);
    const hostProblem = checkHost(host);
    if (hostProblem) return fail(hostProblem, `write host or host:port, ${EXAMPLE}`);
  }

  if (portText === undefined) return { ok: true, host, port: DEFAULT_SSH_PORT };
  if (portText === '')
    return fail(
      'ssh_url ends with ":" but has no port',
      `write the port after the colon, or leave ":" out for port ${DEFAULT_SSH_PORT}`,
    );
  if (!/^\d+$/.test(portText))
    return fail(`the port "${portText}" is not a number`, 'the SSH port is a number from 1 to 65535 (22 when omitted)');
  const port = Number(portText);
  if (port < 1 || port > 65535)
    return fail(
      `the port ${portText} is outside 1–65535`,
      'the SSH port is a number from 1 to 65535 (22 when omitted)',
    );
  return { ok: true, host, port };
}

/** A host name (letters, digits, "-", "_", dot-separated) or a dotted IPv4 address. */
function checkHost(host: string): string | undefined {
  if (host === '') return 'ssh_url has no host before ":"';
  if (/^[\d.]+$/.test(host)) return isIPv4(host) ? undefined : `"${host}" is not a valid IPv4 address`;
  if (host.length > 253) return 'the host name is longer than 253 characters';
  // A trailing dot is a fully qualified name (`worker-4.example.com.`), which ssh and DNS accept.
  for (const label of host.replace(/(?<=.)\.$/, '').split('.')) {
    if (!/^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label)) {
      return `"${host}" is not a valid host name (letters, digits and "-", in dot-separated parts)`;
    }
  }
  return undefined;
}

/**
 * Same machine and port, whatever the spelling: host names ignore case and a trailing dot, IPv6 is
 * compared as written.
 */
export function endpointKey(host: string, port: number): string {
  return `${host.toLowerCase().replace(/(?<=.)\.$/, '')}:${port}`;
}
