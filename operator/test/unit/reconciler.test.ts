import 'reflect-metadata';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { RESOURCES, ref } from '../../src/api/resources.js';
import type { ExpressApp } from '../../src/api/v1alpha1/types.js';
import { ExpressAppReconciler } from '../../src/controllers/expressapp/reconciler.js';
import type { DeploymentLike } from '../../src/controllers/expressapp/live.js';
import { EventRecorder } from '../../src/runtime/events.js';
import { ApiError, type KubeObject } from '../../src/runtime/kube.js';
import { Logger } from '../../src/runtime/log.js';
import { chartDeployment } from '../fixtures/chart-deployment.js';
import { MemoryCluster } from '../support/memory-cluster.js';

const NS = 'shop';
const KEY = `${NS}/orders`;
type App = ExpressApp & KubeObject;
type Deployment = DeploymentLike & { spec: { template: { spec: { containers: { name: string }[] } } } };

let cluster: MemoryCluster;
let reconciler: ExpressAppReconciler;

const appRef = (name = 'orders') => ref(RESOURCES.expressApps, NS, name);
const deployment = () => cluster.read<Deployment>(ref(RESOURCES.deployments, NS, 'orders'))!;
const app = () => cluster.read<App>(appRef())!;
const flags = () => cluster.read(ref(RESOURCES.configMaps, NS, 'orders-flags'));
const hpa = () => cluster.read(ref(RESOURCES.horizontalPodAutoscalers, NS, 'orders'));
const env = () =>
  Object.fromEntries(
    (
      deployment().spec.template.spec.containers.find((c) => c.name === 'app') as { env?: { name: string }[] }
    ).env!.map((e) => [e.name, e]),
  );
const ready = () => app().status?.conditions?.find((c) => c.type === 'Ready');

function putApp(spec: object): void {
  cluster.put(RESOURCES.expressApps, {
    apiVersion: 'platform.sqlize.dev/v1alpha1',
    kind: 'ExpressApp',
    metadata: { name: 'orders', namespace: NS },
    spec,
  });
}

function putSecret(password: string): void {
  cluster.put(RESOURCES.secrets, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'orders-redis-auth', namespace: NS },
    data: { password: Buffer.from(password).toString('base64') },
  });
}

/** What the Deployment controller would report once every pod runs the current template. */
function rolledOut(): void {
  const d = deployment();
  const n = d.spec?.replicas ?? 1;
  cluster.put(RESOURCES.deployments, {
    ...d,
    status: {
      observedGeneration: d.metadata.generation,
      replicas: n,
      updatedReplicas: n,
      readyReplicas: n,
      availableReplicas: n,
    },
  });
}

/** Reconciles and returns the writes it made, status writes left out. */
async function reconcile(): Promise<string[]> {
  const before = cluster.writes.length;
  await reconciler.reconcile(KEY);
  return cluster.writes.slice(before).filter((w) => !w.endsWith('/status'));
}

const spec = {
  replicas: 3,
  redis: { host: 'redis.shop', authEnabled: true, passwordSecretRef: { name: 'orders-redis-auth' } },
  featureFlags: { newCheckout: true },
};

beforeEach(() => {
  cluster = new MemoryCluster();
  const log = new Logger('error', {});
  reconciler = new ExpressAppReconciler(cluster, cluster.caches, new EventRecorder(cluster, log), log, {
    finalizerTimeoutMs: 60_000,
  });
  cluster.put(RESOURCES.deployments, chartDeployment('orders', NS, 2) as unknown as KubeObject);
  putSecret('s3cret');
});

describe('reconciler against an in-memory cluster', () => {
  it('creates: finalizer, replicas, Redis env and hash, flags ConfigMap, status; then a resync writes nothing', async () => {
    putApp(spec);
    await reconcile();
    expect(app().metadata.finalizers).toEqual(['platform.sqlize.dev/finalizer']);
    const d = deployment();
    expect(d.spec?.replicas).toBe(3);
    expect(env().REDIS_HOST).toEqual({ name: 'REDIS_HOST', value: 'redis.shop' });
    expect(env().REDIS_PASSWORD).toEqual({
      name: 'REDIS_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'orders-redis-auth', key: 'password' } },
    });
    expect(env().PORT).toEqual({ name: 'PORT', value: '3000' }); // the chart's own entries stay
    const hash = d.spec?.template?.metadata?.annotations?.['platform.sqlize.dev/redis-config-hash'];
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(flags()?.data).toEqual({ 'flags.json': '{"newCheckout":true}' });
    expect(flags()?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ExpressApp', controller: true });
    expect(ready()).toMatchObject({ status: 'False', reason: 'RollingOut' });
    expect(app().status?.redisConfigRevision).toBe(hash);
    expect(cluster.events.map((e) => e.reason)).toEqual(['DeploymentUpdated', 'FlagsUpdated']);

    rolledOut();
    await reconcile();
    expect(ready()).toMatchObject({ status: 'True', reason: 'Reconciled' });
    const before = cluster.writes.length;
    await reconciler.reconcile(KEY);
    expect(cluster.writes.slice(before)).toEqual([]);
  });

  it('takes back drift and rolls the pods when the Secret value changes', async () => {
    putApp({ ...spec, autoscaling: undefined });
    await reconcile();
    rolledOut();
    await reconcile();
    const hash = app().status?.redisConfigRevision;

    cluster.put(RESOURCES.deployments, { ...deployment(), spec: { ...deployment().spec, replicas: 1 } });
    expect(await reconcile()).toEqual([`PATCH /apis/apps/v1/namespaces/${NS}/deployments/orders`]);
    expect(deployment().spec?.replicas).toBe(3);

    const cm = flags()!;
    cluster.put(RESOURCES.configMaps, { ...cm, data: { 'flags.json': '{}' } });
    expect(await reconcile()).toEqual([`PATCH /api/v1/namespaces/${NS}/configmaps/orders-flags`]);
    expect(flags()?.data).toEqual({ 'flags.json': '{"newCheckout":true}' });

    putSecret('rotated');
    await reconcile();
    expect(app().status?.redisConfigRevision).toMatch(/^[0-9a-f]{16}$/);
    expect(app().status?.redisConfigRevision).not.toBe(hash);

    // Switching to autoscaling: the HPA appears and the operator lets go of spec.replicas.
    putApp({ ...spec, replicas: undefined, autoscaling: { minReplicas: 2, maxReplicas: 5 } });
    await reconcile();
    expect(hpa()?.spec).toMatchObject({ minReplicas: 2, maxReplicas: 5 });
    expect(deployment().spec?.replicas).toBeUndefined();
  });

  it('holds the Redis settings while the Secret is missing and says so', async () => {
    putApp({ ...spec, redis: { ...spec.redis, passwordSecretRef: { name: 'absent' } } });
    await reconcile();
    expect(ready()).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(deployment().spec?.replicas).toBe(3);
    expect(
      deployment().spec?.template?.metadata?.annotations?.['platform.sqlize.dev/redis-config-hash'],
    ).toBe(undefined);
  });

  it('fails on a conflict without writing anything else, and succeeds once the cache caught up', async () => {
    putApp(spec);
    cluster.freezeCaches();
    cluster.put(RESOURCES.expressApps, { ...app(), metadata: { ...app().metadata, labels: { team: 'a' } } });
    const before = cluster.writes.length;
    const err = await reconciler.reconcile(KEY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(409);
    expect(cluster.writes.slice(before)).toEqual([
      `PATCH /apis/platform.sqlize.dev/v1alpha1/namespaces/${NS}/expressapps/orders`,
    ]);
    expect(deployment().spec?.replicas).toBeUndefined();

    cluster.syncCaches();
    await reconcile();
    expect(deployment().spec?.replicas).toBe(3);
    expect(app().metadata.labels).toEqual({ team: 'a' });
  });

  it('finalizes: chart replicas and settings back, operator fields released, HPA and ConfigMap gone', async () => {
    putApp({ ...spec, replicas: undefined, autoscaling: { maxReplicas: 4 } });
    await reconcile();
    expect(hpa()).toBeDefined();
    await cluster.delete(appRef());
    expect(app().metadata.deletionTimestamp).toBeDefined(); // held by the finalizer

    await reconcile();
    const d = deployment();
    expect(d.spec?.replicas).toBe(2); // platform.sqlize.dev/chart-replicas
    expect(Object.keys(env())).toEqual(['PORT', 'FEATURE_FLAGS_FILE']);
    expect(
      d.spec?.template?.metadata?.annotations?.['platform.sqlize.dev/redis-config-hash'],
    ).toBeUndefined();
    expect(d.metadata.managedFields?.some((m) => m.manager === 'expressapp-operator')).toBe(false);
    expect(hpa()).toBeUndefined();
    expect(flags()).toBeUndefined();
    expect(cluster.read(appRef())).toBeUndefined();
    expect(cluster.events.map((e) => e.reason)).toContain('Restored');
  });
});
