import { describe, it, expect } from '@jest/globals';
import { loadConfig } from '../../src/config.js';

describe('operator configuration', () => {
  it('has working defaults', () => {
    const c = loadConfig({ POD_NAME: 'op-0', POD_NAMESPACE: 'ops' });
    expect(c).toMatchObject({
      WORKERS: 4,
      LEADER_ELECT: true,
      identity: 'op-0',
      leaseNamespace: 'ops',
      RESYNC_SECONDS: 600,
    });
  });

  it('names every bad variable in one message', () => {
    expect(() => loadConfig({ WORKERS: '0', LEADER_ELECT: 'yes', LOG_LEVEL: 'loud' })).toThrow(
      /WORKERS: .*; LEADER_ELECT: .*; LOG_LEVEL: /,
    );
  });

  it('watches every namespace by default, or the listed ones', () => {
    expect(loadConfig({}).WATCH_NAMESPACES).toEqual([]);
    expect(loadConfig({ WATCH_NAMESPACES: 'shop, payments,' }).WATCH_NAMESPACES).toEqual([
      'shop',
      'payments',
    ]);
    expect(() => loadConfig({ WATCH_NAMESPACES: 'shop,Not_A_Namespace' })).toThrow(
      /WATCH_NAMESPACES\.1: each namespace must be a DNS label/,
    );
  });

  it('refuses a renew deadline that is not shorter than the lease', () => {
    expect(() => loadConfig({ LEASE_DURATION_SECONDS: '10', RENEW_DEADLINE_SECONDS: '10' })).toThrow(
      /RENEW_DEADLINE_SECONDS/,
    );
  });

  it('serves plain HTTP metrics by default and refuses a certificate directory without METRICS_SECURE', () => {
    expect(loadConfig({})).toMatchObject({ METRICS_SECURE: false, METRICS_AUTH_CACHE_SECONDS: 60 });
    expect(loadConfig({ METRICS_SECURE: 'true', METRICS_CERT_DIR: '/certs' }).METRICS_CERT_DIR).toBe(
      '/certs',
    );
    expect(() => loadConfig({ METRICS_CERT_DIR: '/certs' })).toThrow(
      /METRICS_CERT_DIR is set but METRICS_SECURE is not true/,
    );
    expect(() => loadConfig({ METRICS_SECURE: 'yes' })).toThrow(/METRICS_SECURE: /);
  });
});
