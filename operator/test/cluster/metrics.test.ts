// Secure metrics (METRICS_SECURE=true) against a real apiserver: the operator checks each scrape's
// bearer token with a TokenReview and its user with a SubjectAccessReview, under the RBAC of
// manifests/components/secure-metrics, as Prometheus with and without the metrics-reader binding.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { OperatorProcess, REPO, kubectl } from './harness.js';
import { scrape } from '../support/scrape.js';

const NS = 'expressapp-system';
const COMPONENT = `${REPO}/manifests/components/secure-metrics`;
const RBAC = ['-f', `${COMPONENT}/metrics_auth_role.yaml`, '-f', `${COMPONENT}/metrics_reader_role.yaml`];

describe('secure metrics', () => {
  let op: OperatorProcess | undefined;
  const token = (sa: string) => kubectl(['create', 'token', sa, '-n', NS, '--duration=1h']).trim();

  beforeAll(async () => {
    kubectl(['apply', ...RBAC]);
    for (const sa of ['metrics-scraper', 'metrics-stranger']) {
      kubectl(
        ['apply', '-f', '-'],
        kubectl(['create', 'serviceaccount', sa, '-n', NS, '--dry-run=client', '-o', 'json']),
      );
    }
    kubectl(['delete', 'clusterrolebinding', 'metrics-scraper', '--ignore-not-found']);
    kubectl([
      'create',
      'clusterrolebinding',
      'metrics-scraper',
      '--clusterrole=expressapp-operator-metrics-reader',
      `--serviceaccount=${NS}:metrics-scraper`,
    ]);
    op = await new OperatorProcess({ identity: 'secure-metrics', env: { METRICS_SECURE: 'true' } }).start();
    await op.waitForLeader(60_000);
  }, 120_000);

  afterAll(async () => {
    await op?.stop();
    kubectl(['delete', 'clusterrolebinding', 'metrics-scraper', '--ignore-not-found']);
    kubectl([
      'delete',
      'serviceaccount',
      'metrics-scraper',
      'metrics-stranger',
      '-n',
      NS,
      '--ignore-not-found',
    ]);
    kubectl(['delete', '--ignore-not-found', ...RBAC]);
  }, 60_000);

  it('answers 401 to a scrape without a token or with a forged one', async () => {
    const none = await scrape(op!.metricsPort);
    expect(none.status).toBe(401);
    expect(none.body).not.toContain('controller_runtime_');
    expect((await scrape(op!.metricsPort, 'not-a-token')).status).toBe(401);
  });

  it('answers 403 to a ServiceAccount without the metrics-reader binding', async () => {
    const r = await scrape(op!.metricsPort, token('metrics-stranger'));
    expect(r.status).toBe(403);
    expect(r.body).toContain(`system:serviceaccount:${NS}:metrics-stranger`);
    expect(r.body).not.toContain('controller_runtime_');
  });

  it('serves the controller-runtime metrics over HTTPS to a ServiceAccount bound to metrics-reader', async () => {
    const r = await scrape(op!.metricsPort, token('metrics-scraper'));
    expect(r.status).toBe(200);
    expect(r.body).toMatch(
      /^controller_runtime_reconcile_total\{controller="expressapp",result="success"\} \d+/m,
    );
    expect(r.body).toContain('controller_runtime_max_concurrent_reconciles{controller="expressapp"}');
    // Plain HTTP is not served on the metrics port.
    await expect(fetch(`http://127.0.0.1:${op!.metricsPort}/metrics`)).rejects.toThrow();
  });
});
