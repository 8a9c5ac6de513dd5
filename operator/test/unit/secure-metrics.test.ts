// The secure metrics endpoint as Prometheus meets it: HTTPS with the self-signed or a mounted
// certificate, 401 without an accepted token, 403 when the SubjectAccessReview denies, 200 with the
// metrics otherwise, and reviews cached so repeated scrapes do not reach the apiserver each time.
import { describe, it, expect, afterEach } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMetricsServer } from '../../src/runtime/health.js';
import { OperatorMetrics } from '../../src/runtime/metrics.js';
import { MetricsAuthenticator, type Reviewer, type UserInfo } from '../../src/runtime/metrics-auth.js';
import { loadServingCert, selfSignedCert } from '../../src/runtime/tls.js';
import { scrape } from '../support/scrape.js';

/** Tokens known to the fake apiserver and the users allowed to get /metrics, with call counts. */
class CountingReviewer implements Reviewer {
  tokenReviews = 0;
  accessReviews = 0;
  constructor(
    private readonly users: Record<string, string>,
    private readonly readers: Set<string>,
  ) {}
  tokenReview(token: string): Promise<UserInfo | undefined> {
    this.tokenReviews++;
    const username = this.users[token];
    return Promise.resolve(username ? { username, groups: ['system:serviceaccounts'] } : undefined);
  }
  accessReview(user: UserInfo, verb: string, path: string): Promise<boolean> {
    this.accessReviews++;
    return Promise.resolve(verb === 'get' && path === '/metrics' && this.readers.has(user.username));
  }
}

describe('secure metrics', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
  });

  async function start(reviewer: Reviewer, ttlSeconds = 60, cert = selfSignedCert()) {
    const metrics = new OperatorMetrics();
    metrics.queueMetrics('expressapp', () => []);
    const auth = new MetricsAuthenticator(reviewer, ttlSeconds);
    server = await startMetricsServer(0, '127.0.0.1', metrics.registry, {
      cert,
      check: (req) => auth.check(req),
    });
    return (server.address() as AddressInfo).port;
  }

  it('answers 401 without or with a rejected token, 403 when access is denied, 200 with the metrics', async () => {
    const port = await start(
      new CountingReviewer(
        { good: 'system:serviceaccount:monitoring:prometheus', other: 'eve' },
        new Set(['system:serviceaccount:monitoring:prometheus']),
      ),
    );
    expect((await scrape(port)).status).toBe(401);
    expect((await scrape(port, 'forged')).status).toBe(401);
    const denied = await scrape(port, 'other');
    expect(denied.status).toBe(403);
    expect(denied.body).toContain('"eve" may not get /metrics');
    const ok = await scrape(port, 'good');
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('workqueue_adds_total{name="expressapp",controller="expressapp"} 0');
  });

  it('caches reviews: ten scrapes with one token make one TokenReview and one SubjectAccessReview', async () => {
    const reviewer = new CountingReviewer({ good: 'prom' }, new Set(['prom']));
    const port = await start(reviewer);
    const codes = await Promise.all(Array.from({ length: 10 }, () => scrape(port, 'good')));
    expect(codes.map((c) => c.status)).toEqual(Array(10).fill(200));
    expect([reviewer.tokenReviews, reviewer.accessReviews]).toEqual([1, 1]);
  });

  it('asks again once the cache period is over', async () => {
    const reviewer = new CountingReviewer({ good: 'prom' }, new Set(['prom']));
    const port = await start(reviewer, 0);
    await scrape(port, 'good');
    await scrape(port, 'good');
    expect(reviewer.tokenReviews).toBe(2);
  });

  it('answers 500 and remembers nothing when the apiserver cannot be asked', async () => {
    let fail = true;
    const reviewer: Reviewer = {
      tokenReview: () =>
        fail ? Promise.reject(new Error('connect ECONNREFUSED')) : Promise.resolve({ username: 'p' }),
      accessReview: () => Promise.resolve(true),
    };
    const port = await start(reviewer);
    const r = await scrape(port, 'good');
    expect(r.status).toBe(500);
    expect(r.body).toContain('ECONNREFUSED');
    fail = false;
    expect((await scrape(port, 'good')).status).toBe(200);
  });

  it('serves a self-signed certificate a client can verify for localhost, or the one of METRICS_CERT_DIR', async () => {
    const cert = selfSignedCert(['localhost']);
    const x509 = new X509Certificate(cert.cert);
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.subjectAltName).toContain('DNS:localhost');
    expect(x509.ca).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), 'metrics-cert-'));
    writeFileSync(join(dir, 'tls.crt'), cert.cert);
    writeFileSync(join(dir, 'tls.key'), cert.key);
    const port = await start(new CountingReviewer({ t: 'u' }, new Set(['u'])), 60, loadServingCert(dir));
    // Verified against the certificate itself as the CA: the handshake fails on any other certificate.
    const r = await scrape(port, 't', cert.cert);
    expect(r.status).toBe(200);
    expect(r.peerCert?.fingerprint256).toBe(x509.fingerprint256);
  });

  it('refuses a certificate directory with a missing or mismatched file, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'metrics-cert-'));
    expect(() => loadServingCert(dir)).toThrow(/METRICS_CERT_DIR=.*cannot read tls\.crt/);
    writeFileSync(join(dir, 'tls.crt'), selfSignedCert().cert);
    writeFileSync(join(dir, 'tls.key'), selfSignedCert().key);
    expect(() => loadServingCert(dir)).toThrow(/tls\.key does not match tls\.crt/);
  });
});
