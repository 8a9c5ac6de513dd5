// The five behaviours of DESIGN.md on API objects, plus admission, conflicts and deletion, against a
// real apiserver with the operator running as a process under its ServiceAccount.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import {
  OperatorProcess,
  adminClient,
  appRef,
  applyApp,
  applyChartDeployment,
  deploymentRef,
  hpaRef,
  type Hpa,
  envOf,
  eventually,
  kubectl,
  kubectlFails,
  readyCondition,
  sleep,
  uniqueNamespace,
  type Deployment,
} from './harness.js';
import { chartDeployment } from '../fixtures/chart-deployment.js';
import type { KubeObject } from '../../src/runtime/kube.js';

const client = adminClient();
const HASH = 'platform.sqlize.dev/redis-config-hash';
let op: OperatorProcess;
let ns: string;

const getDeploy = (name: string) => client.get<Deployment>(deploymentRef(ns, name));
const getApp = (name: string) =>
  client.get<KubeObject & { status?: { flagCount?: number } }>(appRef(ns, name));
async function settled(name: string, timeoutMs = 30_000): Promise<void> {
  try {
    await eventually(
      `${name} Ready`,
      async () => readyCondition(await getApp(name))?.reason === 'Reconciled',
      timeoutMs,
    );
  } catch (e) {
    const app = await getApp(name);
    const d = await getDeploy(name);
    throw new Error(
      `${String(e)}\nstatus: ${JSON.stringify(app.status)}\ndeployment status: ${JSON.stringify(d.status)} replicas ${d.spec.replicas}`,
      { cause: e },
    );
  }
}
const managers = (d: KubeObject) =>
  (d.metadata.managedFields ?? []).map((m) => `${m.manager}/${m.operation}`);

beforeAll(async () => {
  ns = uniqueNamespace('xapp-behaviours');
  op = await new OperatorProcess({ identity: 'behaviours', env: { RESYNC_SECONDS: '2' } }).start();
  await op.waitForLeader();
}, 60_000);

afterAll(async () => {
  // The namespace goes while the operator still runs, so the finalizers are dropped.
  kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s']);
  await op?.stop();
  if (op && process.env.SHOW_OPERATOR_LOGS) process.stdout.write(op.logs);
}, 150_000);

describe('admission', () => {
  it.each([
    [{ replicas: 2, autoscaling: { maxReplicas: 4 } }, 'set exactly one of spec.replicas'],
    [
      { autoscaling: { minReplicas: 5, maxReplicas: 2 } },
      'minReplicas must be less than or equal to spec.autoscaling.maxReplicas',
    ],
    [
      { replicas: 1, redis: { host: 'r', port: 70000 } },
      'spec.redis.port must be a TCP port between 1 and 65535',
    ],
    [{ replicas: 1, redis: { host: 'r', authEnabled: true } }, 'passwordSecretRef must name the Secret'],
    [{ replicas: 1, featureFlags: { 'Bad-Flag': true } }, 'every key of spec.featureFlags must match'],
    [{ replicas: 1, redis: { host: 'r', password: 'literal' } }, 'unknown field "spec.redis.password"'],
  ])('refuses %j with a readable message', (spec, message) => {
    const obj = {
      apiVersion: 'platform.sqlize.dev/v1alpha1',
      kind: 'ExpressApp',
      metadata: { name: 'bad', namespace: ns },
      spec,
    };
    const err = kubectlFails(['create', '--validate=strict', '-f', '-'], JSON.stringify(obj));
    expect(err).toContain(message);
  });
});

describe('1. replica counts', () => {
  it('follows spec.replicas and kubectl scale, and survives a helm upgrade (Helm 4 apply and Helm 3 merge) without conflict', async () => {
    applyChartDeployment('orders', ns, 2);
    applyApp(ns, 'orders', { replicas: 3, redis: { host: 'redis-a' } });
    await eventually('replicas 3', async () => (await getDeploy('orders')).spec.replicas === 3);
    kubectl(['scale', '-n', ns, 'xapp/orders', '--replicas=5']);
    await eventually('replicas 5', async () => (await getDeploy('orders')).spec.replicas === 5);

    // helm upgrade with Helm 4: server-side apply of the same chart output, without --force-conflicts.
    applyChartDeployment('orders', ns, 2, 'helm');
    // helm upgrade with Helm 3: a client-side (three-way merge) update of the same manifest.
    kubectl(['apply', '--field-manager=helm', '-f', '-'], JSON.stringify(chartDeployment('orders', ns, 2)));
    await sleep(1500);
    const d = await getDeploy('orders');
    expect(d.spec.replicas).toBe(5);
    expect(envOf(d).REDIS_HOST).toBe('redis-a');
    // A conflict would show as ApplyFailed; RollingOut is expected while the two extra pods start.
    expect(readyCondition(await getApp('orders'))?.reason).not.toBe('ApplyFailed');
    await eventually(
      'Ready after the upgrades',
      async () => readyCondition(await getApp('orders'))?.status === 'True',
    );
  }, 60_000);

  it('switches to an HPA with spec.autoscaling and releases spec.replicas', async () => {
    applyApp(ns, 'orders', {
      autoscaling: { minReplicas: 2, maxReplicas: 7, targetCPUUtilizationPercentage: 65 },
      redis: { host: 'redis-a' },
    });
    const hpa = await eventually('HPA', () => client.getOrUndefined<Hpa>(hpaRef(ns, 'orders')));
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 7]);
    expect(hpa.metadata.ownerReferences?.[0]?.kind).toBe('ExpressApp');
    await eventually('replicas released', async () => {
      const d = await client.request<Deployment>('GET', `/apis/apps/v1/namespaces/${ns}/deployments/orders`);
      const entry = d.metadata.managedFields?.find(
        (m) => m.manager === 'expressapp-operator' && m.operation === 'Apply',
      );
      return entry && !JSON.stringify(entry.fieldsV1).includes('"f:replicas"');
    });
    applyApp(ns, 'orders', { replicas: 3, redis: { host: 'redis-a' } });
    await eventually('HPA deleted', async () => !(await client.getOrUndefined(hpaRef(ns, 'orders'))));
  }, 60_000);
});

describe('2. Redis config', () => {
  it('rolls the pods to new settings, takes the password from the Secret and rolls again when the Secret changes', async () => {
    kubectl(['create', 'secret', 'generic', 'orders-redis-auth', '-n', ns, '--from-literal=password=one']);
    const before = (await getDeploy('orders')).spec.template.metadata?.annotations?.[HASH];
    applyApp(ns, 'orders', {
      replicas: 3,
      redis: {
        host: 'redis-b',
        port: 6380,
        db: 2,
        tls: true,
        keyPrefix: 'orders:',
        authEnabled: true,
        passwordSecretRef: { name: 'orders-redis-auth' },
      },
    });
    const rolled = await eventually('new hash', async () => {
      const d = await getDeploy('orders');
      const h = d.spec.template.metadata?.annotations?.[HASH];
      return h && h !== before ? d : undefined;
    });
    expect(envOf(rolled)).toMatchObject({
      REDIS_HOST: 'redis-b',
      REDIS_PORT: '6380',
      REDIS_DB: '2',
      REDIS_TLS: 'true',
      REDIS_KEY_PREFIX: 'orders:',
      REDIS_PASSWORD: JSON.stringify({ secretKeyRef: { name: 'orders-redis-auth', key: 'password' } }),
    });
    const h1 = rolled.spec.template.metadata!.annotations![HASH];
    await settled('orders');
    expect((await getApp('orders')).status).toMatchObject({ redisConfigRevision: h1 });

    kubectl(['patch', 'secret', 'orders-redis-auth', '-n', ns, '-p', '{"stringData":{"password":"two"}}']);
    const h2 = await eventually('hash after Secret change', async () => {
      const h = (await getDeploy('orders')).spec.template.metadata?.annotations?.[HASH];
      return h !== h1 ? h : undefined;
    });
    expect(h2).toBeDefined();
  }, 90_000);

  it('reports a missing Secret in Degraded and keeps the pods on their current settings', async () => {
    const current = (await getDeploy('orders')).spec.template.metadata?.annotations?.[HASH];
    applyApp(ns, 'orders', {
      replicas: 3,
      redis: { host: 'redis-c', authEnabled: true, passwordSecretRef: { name: 'does-not-exist' } },
    });
    const app = await eventually('SecretNotFound', async () => {
      const a = await getApp('orders');
      return readyCondition(a)?.reason === 'SecretNotFound' ? a : undefined;
    });
    expect(readyCondition(app)?.message).toContain('Secret');
    expect((await getDeploy('orders')).spec.template.metadata?.annotations?.[HASH]).toBe(current);
  }, 30_000);
});

describe('3. feature flags', () => {
  it('writes the flags ConfigMap without touching the pod template (no restart)', async () => {
    applyApp(ns, 'orders', { replicas: 3, redis: { host: 'redis-b' }, featureFlags: { newCheckout: true } });
    await eventually('flags', async () => {
      const cm = await client.getOrUndefined<KubeObject & { data: Record<string, string> }>({
        group: '',
        version: 'v1',
        plural: 'configmaps',
        namespace: ns,
        name: 'orders-flags',
      });
      return cm?.data['flags.json'] === '{"newCheckout":true}';
    });
    await settled('orders');
    const generation = (await getDeploy('orders')).metadata.generation;
    applyApp(ns, 'orders', {
      replicas: 3,
      redis: { host: 'redis-b' },
      featureFlags: { newCheckout: false, betaSearch: true },
    });
    await eventually('flags updated', async () => {
      const cm = await client.get<KubeObject & { data: Record<string, string> }>({
        group: '',
        version: 'v1',
        plural: 'configmaps',
        namespace: ns,
        name: 'orders-flags',
      });
      return cm.data['flags.json'] === '{"betaSearch":true,"newCheckout":false}';
    });
    await eventually('flag count in status', async () => (await getApp('orders')).status?.flagCount === 2);
    expect((await getDeploy('orders')).metadata.generation).toBe(generation);
  }, 60_000);
});

describe('5. level-triggered and idempotent', () => {
  it('performs zero writes during idle resyncs', async () => {
    await settled('orders');
    await sleep(1500);
    const writes = await op.objectWrites();
    const reconciles = await op.metric('controller_runtime_reconcile_total');
    await sleep(6000); // three resyncs (RESYNC_SECONDS=2)
    expect(await op.metric('controller_runtime_reconcile_total')).toBeGreaterThan(reconciles);
    expect(await op.objectWrites()).toBe(writes);
  }, 30_000);

  it('serves /healthz, /readyz and controller-runtime metrics', async () => {
    const probe = async (path: string) => (await fetch(`http://127.0.0.1:${op.healthPort}${path}`)).status;
    expect([await probe('/healthz'), await probe('/readyz')]).toEqual([200, 200]);
    const text = await (await fetch(`http://127.0.0.1:${op.metricsPort}/metrics`)).text();
    for (const name of [
      'controller_runtime_reconcile_total{controller="expressapp",result="success"}',
      'controller_runtime_reconcile_time_seconds_bucket',
      'workqueue_depth',
      'workqueue_adds_total',
      'workqueue_retries_total',
      'leader_election_master_status',
      'process_resident_memory_bytes',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('takes its field back after a conflicting write by another field manager', async () => {
    kubectl(['scale', '-n', ns, 'deployment/orders', '--replicas=1']);
    kubectl(['set', 'env', '-n', ns, 'deployment/orders', '-c', 'app', 'REDIS_HOST=hijacked']);
    await eventually('operator values back', async () => {
      const d = await getDeploy('orders');
      return d.spec.replicas === 3 && envOf(d).REDIS_HOST === 'redis-b';
    });
  }, 30_000);
});

describe('4. deletion', () => {
  it('restores the chart settings and leaves nothing behind', async () => {
    kubectl(['delete', '-n', ns, 'xapp/orders', '--timeout=30s']);
    const d = await client.request<Deployment>('GET', `/apis/apps/v1/namespaces/${ns}/deployments/orders`);
    expect(d.spec.replicas).toBe(2); // platform.sqlize.dev/chart-replicas
    expect(Object.keys(envOf(d)).filter((k) => k.startsWith('REDIS_'))).toEqual([]);
    expect(d.spec.template.metadata?.annotations?.[HASH]).toBeUndefined();
    expect(managers(d)).not.toContain('expressapp-operator/Apply');
    await eventually(
      'flags ConfigMap gone',
      async () =>
        !(await client.getOrUndefined({
          group: '',
          version: 'v1',
          plural: 'configmaps',
          namespace: ns,
          name: 'orders-flags',
        })),
    );
    // The chart can take the replica count back without a conflict.
    const withReplicas = chartDeployment('orders', ns, 2) as { spec: Record<string, unknown> };
    withReplicas.spec.replicas = 2;
    kubectl(['apply', '--server-side', '--field-manager=helm', '-f', '-'], JSON.stringify(withReplicas));
  }, 60_000);

  it('never blocks the deletion of a namespace', async () => {
    const other = uniqueNamespace('xapp-nsdel');
    try {
      applyChartDeployment('web', other, 1);
      kubectl(
        ['apply', '-n', other, '-f', '-'],
        JSON.stringify({
          apiVersion: 'platform.sqlize.dev/v1alpha1',
          kind: 'ExpressApp',
          metadata: { name: 'web' },
          spec: { replicas: 2 },
        }),
      );
      await eventually(
        'finalizer added',
        async () => (await client.get<KubeObject>(appRef(other, 'web'))).metadata.finalizers?.length === 1,
      );
      kubectl(['delete', 'namespace', other, '--wait=false']);
      await eventually(
        'namespace gone',
        async () =>
          !(await client.getOrUndefined({ group: '', version: 'v1', plural: 'namespaces', name: other })),
        60_000,
      );
    } finally {
      kubectl(['delete', 'namespace', other, '--ignore-not-found', '--wait=false']);
    }
  }, 90_000);

  it('reports a missing target and recovers when it appears', async () => {
    applyApp(ns, 'later', { replicas: 2 });
    const app = await eventually('TargetNotFound', async () => {
      const a = await getApp('later');
      return readyCondition(a)?.reason === 'TargetNotFound' ? a : undefined;
    });
    expect(readyCondition(app)?.message).toContain('expressApp.governed=true');
    applyChartDeployment('later', ns, 1);
    await eventually('replicas 2', async () => (await getDeploy('later')).spec.replicas === 2);
  }, 30_000);
});
