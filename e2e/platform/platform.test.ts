// The platform as its users drive it, on the cluster of KUBECONFIG: the operator installed from
// manifests/ (E2E_OPERATOR: a local process on the local cluster, its Deployment on kind), the chart
// installed with Helm 3 and Helm 4 with governed values (chart/ci/governed.yaml), then an ExpressApp
// applied by a platform engineer takes the release over, and hands it back when it is deleted
// (docs/contract.md: who owns which field).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1ConfigMap, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { resolve } from 'node:path';
import { HELM_MAJORS, applyObject, chartDir, getJson, helm, helmUpgrade, kubectl } from '../lib/helm.js';
import { applyExpressApp, readExpressApp, readyExpressApp } from '../lib/expressapp.js';
import { clients, uniqueName } from '../lib/kube.js';
import { installOperator, type InstalledOperator } from '../lib/operator.js';
import { Release, appContainerEnv, everyObject } from '../lib/release.js';
import { waitFor } from '../lib/wait.js';

const { core } = clients();
const GOVERNED_VALUES = resolve(chartDir, 'ci', 'governed.yaml');
const REDIS_HASH = 'platform.sqlize.dev/redis-config-hash';
const CHART_REPLICAS = 'platform.sqlize.dev/chart-replicas';
const OPERATOR_MANAGER = 'expressapp-operator';
// The Secret governed.yaml's redis.existingSecret and the ExpressApp's passwordSecretRef name.
const REDIS_SECRET = 'orders-redis-credentials';
// The database password, as an app team provides it (database.existingSecret).
const DB_SECRET = 'orders-database';

let operator: InstalledOperator;

beforeAll(async () => {
  operator = await installOperator();
  console.log(`[platform] operator from manifests/ running as a ${operator.mode}`);
}, 150_000);

afterAll(async () => {
  if (!operator) return;
  console.log(`[platform] operator output: ${await operator.saveLogs('e2e-platform-operator')}`);
  await operator.stop();
});

describe.each(HELM_MAJORS)('the chart under an ExpressApp, installed with %s', (binary) => {
  const namespace = uniqueName(`platform-${binary}`);
  const release = new Release(namespace, 'orders');
  // The chart is governed, but the ExpressApp is the platform engineer's own object, applied with
  // kubectl, so helm upgrade never touches its spec (expressApp.create=false).
  const install = (set: Record<string, string> = {}) =>
    helmUpgrade(
      binary,
      release.name,
      namespace,
      { 'expressApp.create': 'false', 'database.existingSecret': DB_SECRET, ...set },
      [GOVERNED_VALUES],
    );
  const applyApp = (spec: object) => applyExpressApp(namespace, release.name, spec);
  const app = () => readExpressApp(namespace, release.name);
  const readyApp = () => readyExpressApp(namespace, release.name);
  const hpa = () => getJson<V2HorizontalPodAutoscaler>(namespace, 'hpa', release.name);
  const flags = () => getJson<V1ConfigMap>(namespace, 'configmap', `${release.name}-flags`);
  const redis = (db: number) => ({
    host: 'redis-a.cache.svc.cluster.local',
    port: 6379,
    db,
    keyPrefix: 'orders:',
    authEnabled: true,
    passwordSecretRef: { name: REDIS_SECRET, key: 'REDIS_PASSWORD' },
  });

  let baseline: string[] = [];

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await kubectl([
      ...['create', 'secret', 'generic', REDIS_SECRET, '-n', namespace],
      '--from-literal=REDIS_PASSWORD=first-password',
    ]);
    await kubectl([
      'create',
      'secret',
      'generic',
      DB_SECRET,
      '-n',
      namespace,
      '--from-literal=DB_PASSWORD=e2e',
    ]);
    baseline = await everyObject(namespace);
  });
  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('helm install with governed values: a Deployment left to the operator, and NOTES that say so', async () => {
    const notes = await install();
    expect(notes).toContain(`Governed by ExpressApp ${release.name}`);
    expect(notes).toContain(`kubectl -n ${namespace} get xapp ${release.name}`);
    expect(notes).toContain(`Redis password: Secret ${REDIS_SECRET}, key REDIS_PASSWORD`);
    expect(notes).not.toContain('WARNING'); // both Secrets exist

    const d = await release.deployment();
    expect(d.metadata?.annotations).toMatchObject({
      [CHART_REPLICAS]: '2',
      'platform.sqlize.dev/governed': 'true',
    });
    // No replicas in the manifest and no HPA: the apiserver's default of 1 until the operator acts.
    expect((await release.renderedDeployment(binary)).spec?.replicas).toBeUndefined();
    expect(await hpa()).toBeUndefined();
    const container = d.spec?.template.spec?.containers.find((c) => c.name === 'app');
    expect(container?.envFrom).toEqual(
      expect.arrayContaining([
        { configMapRef: { name: `${release.name}-redis` } },
        { secretRef: { name: REDIS_SECRET } },
      ]),
    );
    expect(appContainerEnv(d).filter((e) => e.name.startsWith('REDIS_'))).toEqual([]);
    await release.rolledOut(1);
  });

  it('an ExpressApp with autoscaling: the operator creates its HPA, which scales the Deployment to the minimum', async () => {
    await applyApp({
      autoscaling: { minReplicas: 2, maxReplicas: 4, targetCPUUtilizationPercentage: 60 },
      redis: redis(1),
    });
    const created = await waitFor('the operator to create the HPA', 30_000, hpa);
    const owner = (await app())?.metadata.uid;
    expect(created.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'ExpressApp', name: release.name, uid: owner, controller: true }),
    ]);
    expect(created.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 4,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: release.name },
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } },
        },
      ],
    });
    // The HPA controller raises the replica count to minReplicas even without metrics.
    await release.rolledOut(2);
    await readyApp();
  });

  it('spec.replicas: the HPA goes, the app scales, gets the Redis env and its flags, and turns Ready', async () => {
    await applyApp({ replicas: 3, redis: redis(1), featureFlags: { newCheckout: true, betaSearch: false } });
    await waitFor('the operator to delete its HPA', 30_000, async () => ((await hpa()) ? undefined : true));
    const d = await release.rolledOut(3);
    const env = Object.fromEntries(appContainerEnv(d).map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      REDIS_HOST: 'redis-a.cache.svc.cluster.local',
      REDIS_PORT: '6379',
      REDIS_DB: '1',
      REDIS_TLS: 'false',
      REDIS_KEY_PREFIX: 'orders:',
      REDIS_PASSWORD: { secretKeyRef: { name: REDIS_SECRET, key: 'REDIS_PASSWORD' } },
    });
    const cm = await waitFor('the flags ConfigMap', 30_000, flags);
    expect(JSON.parse(cm.data?.['flags.json'] ?? '{}')).toEqual({ newCheckout: true, betaSearch: false });
    expect(cm.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ExpressApp', name: release.name });

    const a = await readyApp();
    expect(a.status?.readyReplicas).toBe(3);
    expect(a.status?.redisConfigRevision).toBe(d.spec?.template.metadata?.annotations?.[REDIS_HASH]);
  });

  it('a Redis change and a changed password Secret roll the pods; a flags change does not', async () => {
    const before = await release.deployment();
    const hashBefore = await release.currentTemplateHash();

    await applyApp({ replicas: 3, redis: redis(2), featureFlags: { newCheckout: true, betaSearch: false } });
    const afterDb = await waitFor('REDIS_DB=2 in the pod template', 30_000, async () => {
      const d = await release.deployment();
      return appContainerEnv(d).find((e) => e.name === 'REDIS_DB')?.value === '2' ? d : undefined;
    });
    const annotation = (d: typeof before) => d.spec?.template.metadata?.annotations?.[REDIS_HASH];
    expect(annotation(afterDb)).not.toBe(annotation(before));
    await release.rolledOut(3);
    const hashAfterDb = await release.currentTemplateHash();
    expect(hashAfterDb).not.toBe(hashBefore);
    // The old ReplicaSet is kept for rollback, scaled to zero.
    const old = (
      await release.list<{ metadata: { labels: Record<string, string> }; spec: { replicas: number } }>(
        'replicasets',
      )
    ).find((rs) => rs.metadata.labels['pod-template-hash'] === hashBefore);
    expect(old?.spec.replicas).toBe(0);

    await applyObject({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: REDIS_SECRET, namespace },
      stringData: { REDIS_PASSWORD: 'rotated-password' },
    });
    const afterSecret = await waitFor('a new Redis hash after the Secret changed', 30_000, async () => {
      const d = await release.deployment();
      return annotation(d) !== annotation(afterDb) ? d : undefined;
    });
    expect(appContainerEnv(afterSecret)).toEqual(appContainerEnv(afterDb));
    await release.rolledOut(3);
    const hashAfterSecret = await release.currentTemplateHash();
    expect(hashAfterSecret).not.toBe(hashAfterDb);
    const flagsRevision = (await readyApp()).status?.flagsRevision;

    await applyApp({ replicas: 3, redis: redis(2), featureFlags: { newCheckout: false, betaSearch: true } });
    await waitFor('the new flags in the ConfigMap', 30_000, async () => {
      const data = (await flags())?.data?.['flags.json'];
      return data && JSON.parse(data).betaSearch === true ? true : undefined;
    });
    const a = await readyApp();
    expect(a.status?.flagsRevision).not.toBe(flagsRevision);
    // Flags reach the pods through the mounted ConfigMap: no new template, no restart.
    expect(await release.currentTemplateHash()).toBe(hashAfterSecret);
  });

  it("helm upgrade succeeds, applies the chart's own change and keeps the operator's fields", async () => {
    const before = await release.deployment();
    const flagsBefore = (await flags())?.data;

    await install({ 'config.logLevel': 'debug' });

    const config = await getJson<V1ConfigMap>(namespace, 'configmap', `${release.name}-config`);
    expect(config?.data?.LOG_LEVEL).toBe('debug');
    const after = await release.rolledOut(3);
    expect(after.spec?.replicas).toBe(3);
    expect(after.spec?.template.metadata?.annotations?.[REDIS_HASH]).toBe(
      before.spec?.template.metadata?.annotations?.[REDIS_HASH],
    );
    const redisEnv = (d: typeof before) => appContainerEnv(d).filter((e) => e.name.startsWith('REDIS_'));
    expect(redisEnv(after)).toEqual(redisEnv(before));
    expect(redisEnv(after)).toHaveLength(6);
    expect((await flags())?.data).toEqual(flagsBefore);
    // The chart's change rolled the pods (checksum/config) and the operator still reports Ready.
    expect(after.spec?.template.metadata?.annotations?.['checksum/config']).not.toBe(
      before.spec?.template.metadata?.annotations?.['checksum/config'],
    );
    await readyApp();
  });

  it("deleting the ExpressApp restores the chart's settings and removes what the operator owned", async () => {
    const governedTemplate = await release.currentTemplateHash();
    await kubectl(['delete', 'expressapp', release.name, '-n', namespace, '--wait=true', '--timeout=60s']);

    // Replicas back to the chart's own count; every field the operator applied released.
    const d = await release.rolledOut(2);
    expect(d.spec?.replicas).toBe(Number(d.metadata?.annotations?.[CHART_REPLICAS]));
    expect(d.metadata?.managedFields?.map((m) => m.manager)).not.toContain(OPERATOR_MANAGER);
    const rendered = await release.renderedDeployment(binary);
    expect(d.spec?.template.metadata?.annotations).toEqual(rendered.spec?.template.metadata?.annotations);
    expect(appContainerEnv(d).map((e) => e.name)).toEqual(appContainerEnv(rendered).map((e) => e.name));
    const container = d.spec?.template.spec?.containers.find((c) => c.name === 'app');
    expect(container?.envFrom).toContainEqual({ configMapRef: { name: `${release.name}-redis` } });
    // The pods rolled back to the chart's Redis settings (the envFrom above).
    expect(await release.currentTemplateHash()).not.toBe(governedTemplate);

    expect(await hpa()).toBeUndefined();
    await waitFor('the flags ConfigMap to be gone', 30_000, async () => ((await flags()) ? undefined : true));
    // The finalizer says what it did, where `kubectl describe` and `kubectl get events` show it.
    const events = await kubectl([
      ...['get', 'events', '-n', namespace, '-o', 'jsonpath={.items[*].message}'],
      `--field-selector=involvedObject.kind=ExpressApp,involvedObject.name=${release.name},reason=Restored`,
    ]);
    expect(events).toContain(`Deployment ${release.name}: chart settings restored`);
  });

  it('helm uninstall leaves no object behind, of any namespaced kind', async () => {
    // The check below sees the release's objects while they exist, so it can tell "none left".
    expect(await everyObject(namespace)).toEqual(
      expect.arrayContaining([`deployment.apps/${release.name}`, `service/${release.name}`]),
    );
    await helm(binary, ['uninstall', release.name, '-n', namespace, '--wait', '--timeout', '120s']);
    // Every kind counts: Helm's release Secrets, ReplicaSets, pods, EndpointSlices, the flags ConfigMap.
    let left: string[] = [];
    await waitFor('the namespace to hold only what was there before the install', 60_000, async () => {
      left = await everyObject(namespace);
      return JSON.stringify(left) === JSON.stringify(baseline) ? true : undefined;
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}; before: ${baseline.join(' ')}; now: ${left.join(' ')}`);
    });
  });
});
