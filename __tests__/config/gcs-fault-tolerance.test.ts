// ray_spec.gcs_fault_tolerance: the Redis's address checked at its line and column, the password read
// from the environment like a login's (a literal one warned), and never echoed in a message.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, parseConfig } from '../../src/config';
import { parseRedisAddress } from '../../src/config/gcs-fault-tolerance';

function configWith(section: string[], env: Record<string, string> = {}) {
  const text = [
    'ray_spec:',
    '  cluster_name: prod',
    '  gcs_fault_tolerance:',
    ...section.map((l) => `    ${l}`),
    'nodes:',
    '  - {ssh_url: "10.0.0.1:22", name: head, role: head, ray_config: {port: 10001}}',
  ].join('\n');
  return parseConfig(text, 'ray-config.yaml', { defaultUser: 'u', env });
}

const lines = (r: ReturnType<typeof configWith>) => r.diagnostics.map(formatDiagnostic);

describe('ray_spec.gcs_fault_tolerance', () => {
  it('reads the address and the password reference into the model, the password unresolved', () => {
    const r = configWith(['redis_address: "redis.internal:6379"', 'redis_password: ${RDS_PW}'], {
      RDS_PW: 's3cr3t-pw',
    });
    expect(lines(r)).toEqual([]);
    expect(r.config?.gcsFaultTolerance).toEqual({ redisAddress: 'redis.internal:6379', redisPassword: '${RDS_PW}' });
  });

  it('has no fault tolerance when left out', () => {
    const r = parseConfig('nodes:\n  - {ssh_url: "h:22", name: head, role: head}\n', 'c.yaml', { defaultUser: 'u' });
    expect(r.config?.gcsFaultTolerance).toBeUndefined();
  });

  it('points at a bad address and says what to write', () => {
    const r = configWith(['redis_address: redis.internal']);
    expect(lines(r)).toEqual([
      'ray-config.yaml:4:20: error: ray_spec.gcs_fault_tolerance.redis_address: "redis.internal" has no port (hint: write host:port, e.g. "redis.internal:6379", "10.0.0.7:6379" or "[2001:db8::7]:6379" (Redis\'s default port is 6379))',
    ]);
  });

  it('refuses a URL with the password in it without echoing the password', () => {
    const r = configWith(['redis_address: "redis://:hunter2-pw@10.0.0.7:6379"']);
    const out = lines(r).join('\n');
    expect(out).toContain(
      'ray_spec.gcs_fault_tolerance.redis_address: redis_address takes host:port, not a URL (redis://)',
    );
    expect(out).not.toContain('hunter2-pw');
  });

  it('needs redis_address', () => {
    const r = configWith(['redis_password: ${RDS_PW}'], { RDS_PW: 'x' });
    expect(lines(r).join('\n')).toMatch(/ray_spec\.gcs_fault_tolerance: missing required key `redis_address`/);
  });

  it('warns of a plaintext password at its value, never showing it', () => {
    const r = configWith(['redis_address: "10.0.0.7:6379"', 'redis_password: plain-text-pw']);
    expect(r.config).toBeDefined();
    expect(lines(r)).toEqual([
      'ray-config.yaml:5:21: warning: ray_spec.gcs_fault_tolerance.redis_password: a plaintext password is written in the config (hint: write redis_password: ${ENV_NAME} and map a secret into that variable)',
    ]);
  });

  it('names an unset variable at the reference', () => {
    const r = configWith(['redis_address: "10.0.0.7:6379"', 'redis_password: ${RDS_MISSING}']);
    expect(lines(r)[0]).toMatch(
      /^ray-config\.yaml:5:21: error: ray_spec\.gcs_fault_tolerance\.redis_password: environment variable RDS_MISSING is not set/,
    );
  });

  it('a number as password: the type error does not show it', () => {
    const r = configWith(['redis_address: "10.0.0.7:6379"', 'redis_password: 123456789']);
    const out = lines(r).join('\n');
    expect(out).toContain('redis_password: expected a non-empty string');
    expect(out).not.toContain('123456789');
  });
});

describe('parseRedisAddress', () => {
  it('takes names, IPv4 and bracketed IPv6 with a port', () => {
    expect(parseRedisAddress('redis.internal:6379')).toEqual({ ok: true, host: 'redis.internal', port: 6379 });
    expect(parseRedisAddress('10.0.0.7:6380')).toEqual({ ok: true, host: '10.0.0.7', port: 6380 });
    expect(parseRedisAddress('[fd00::7]:6379')).toEqual({ ok: true, host: 'fd00::7', port: 6379 });
  });

  it('refuses what Ray would not take', () => {
    for (const bad of ['fd00::7:6379', 'redis:0', 'redis:70000', 'redis:x', 'red is:6379', 'u@redis:6379', '${R}:1'])
      expect(parseRedisAddress(bad).ok, bad).toBe(false);
  });
});
