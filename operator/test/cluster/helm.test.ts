// The real chart (chart/, values chart/ci/governed.yaml) installed and upgraded with Helm 4 while the
// operator governs it: the upgrade neither conflicts with nor undoes the operator's fields.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  KUBECONFIG,
  OperatorProcess,
  REPO,
  adminClient,
  deploymentRef,
  hpaRef,
  type Hpa,
  eventually,
  kubectl,
  uniqueNamespace,
  type Deployment,
} from './harness.js';

const HELM = join(
  process.env.ESP_CACHE_DIR ?? join(process.env.HOME ?? '/root', '.cache/express-sqlize-platform'),
  'bin',
  'helm4',
);
const VALUES = join(REPO, 'chart/ci/governed.yaml');
const client = adminClient();
let ns: string;
let op: OperatorProcess;

const helm = (...args: string[]) =>
  execFileSync(HELM, [...args, '-n', ns, '--kubeconfig', KUBECONFIG], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

describe('helm install and upgrade of the governed chart', () => {
  beforeAll(async () => {
    // A missing Helm is a broken set-up, never a reason to skip: the test then fails and says so.
    if (!existsSync(HELM)) throw new Error(`${HELM} is missing: run make tools`);
    ns = uniqueNamespace('xapp-helm');
    op = await new OperatorProcess({
      identity: 'helm',
      env: { WATCH_NAMESPACES: ns, LEADER_ELECTION_ID: 'expressapp-operator' },
    }).start();
    await op.waitForLeader(60_000);
    kubectl([
      'create',
      'secret',
      'generic',
      'orders-redis-credentials',
      '-n',
      ns,
      '--from-literal=REDIS_PASSWORD=x',
    ]);
  }, 90_000);

  afterAll(async () => {
    kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s']);
    await op.stop();
  }, 150_000);

  it('lets the operator own its fields across helm upgrade', async () => {
    helm('install', 'orders', join(REPO, 'chart'), '-f', VALUES);
    const hpa = await eventually('HPA from the chart-rendered ExpressApp', () =>
      client.getOrUndefined<Hpa>(hpaRef(ns, 'orders')),
    );
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 5]);
    const hash = await eventually(
      'redis hash',
      async () =>
        (await client.get<Deployment>(deploymentRef(ns, 'orders'))).spec.template.metadata?.annotations?.[
          'platform.sqlize.dev/redis-config-hash'
        ],
    );
    helm('upgrade', 'orders', join(REPO, 'chart'), '-f', VALUES);
    const d = await client.get<Deployment>(deploymentRef(ns, 'orders'));
    expect(d.spec.template.metadata?.annotations?.['platform.sqlize.dev/redis-config-hash']).toBe(hash);
    const env = d.spec.template.spec.containers.find((c) => c.name === 'app')!.env ?? [];
    expect(env.find((e) => e.name === 'REDIS_DB')?.value).toBe('1');
  }, 120_000);
});
