// The chart on a real API server, with Helm 3 and Helm 4: the objects of an install, the hand-over
// of fields to an ExpressApp (docs/contract.md), and an uninstall that leaves nothing behind.
// The operator's writes are made here with its field manager and server-side apply, exactly as the
// contract describes them; the operator's own suite drives the real controller.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1Deployment, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { HELM_MAJORS, getJson, helm, helmUpgrade, kubectl } from '../lib/helm.js';
import { clients, uniqueName } from '../lib/kube.js';
import { waitFor } from '../lib/wait.js';

const { core } = clients();
const release = 'orders';

describe.each(HELM_MAJORS)('the chart installed with %s', (binary) => {
  const namespace = uniqueName(`chart-${binary}`);
  const deployment = () => getJson<V1Deployment>(namespace, 'deployment', release);

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });
  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('installs a Deployment owned by its HPA, with the contract names and a restricted pod', async () => {
    const notes = await helmUpgrade(binary, release, namespace, { 'database.password': 'e2e-password' });
    expect(notes).toContain(`kubectl -n ${namespace} port-forward service/${release}`);

    const deploy = await deployment();
    expect(deploy?.metadata?.annotations?.['platform.sqlize.dev/chart-replicas']).toBe('2');
    const pod = deploy?.spec?.template.spec;
    const app = pod?.containers.find((c) => c.name === 'app');
    expect(app?.ports?.[0]).toMatchObject({ name: 'http', containerPort: 3000 });
    expect([
      app?.startupProbe?.httpGet?.path,
      app?.livenessProbe?.httpGet?.path,
      app?.readinessProbe?.httpGet?.path,
    ]).toEqual(['/startup', '/live', '/ready']);
    expect(app?.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod?.securityContext?.runAsUser).toBeGreaterThan(10000);
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(pod?.volumes?.find((v) => v.name === 'flags')?.configMap).toMatchObject({
      name: `${release}-flags`,
      optional: true,
    });

    const hpa = await getJson<V2HorizontalPodAutoscaler>(namespace, 'hpa', release);
    expect(hpa?.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 6,
      scaleTargetRef: { kind: 'Deployment', name: release },
    });
    await waitFor('2 ready replicas (HPA minimum)', 60_000, async () =>
      (await deployment())?.status?.readyReplicas === 2 ? true : undefined,
    );
    // The hook Job migrated and was deleted with its Secret once it succeeded.
    expect(await getJson(namespace, 'job', `${release}-migrate`)).toBeUndefined();
    expect(await getJson(namespace, 'secret', `${release}-migrate`)).toBeUndefined();
  });

  it('governed: renders no HPA and Redis only through envFrom', async () => {
    await helmUpgrade(binary, release, namespace, { 'expressApp.governed': 'true', 'redis.host': 'redis-a' });
    expect(await getJson(namespace, 'hpa', release)).toBeUndefined();
    const app = (await deployment())?.spec?.template.spec?.containers.find((c) => c.name === 'app');
    expect(app?.envFrom?.map((e) => e.configMapRef?.name)).toContain(`${release}-redis`);
    expect(app?.env?.filter((e) => e.name.startsWith('REDIS_'))).toEqual([]);
  });

  it('governed: helm upgrade keeps the fields the operator applied and still applies its own change', async () => {
    const operatorPatch = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: release, namespace },
      spec: {
        replicas: 4,
        template: {
          metadata: { annotations: { 'platform.sqlize.dev/redis-config-hash': 'e2e-hash' } },
          spec: {
            containers: [
              {
                name: 'app',
                env: [
                  { name: 'REDIS_HOST', value: 'redis-b' },
                  { name: 'REDIS_PORT', value: '6380' },
                ],
              },
            ],
          },
        },
      },
    };
    await kubectl(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=expressapp-operator', '-f', '-'],
      JSON.stringify(operatorPatch),
    );
    await helmUpgrade(binary, release, namespace, {
      'expressApp.governed': 'true',
      'redis.host': 'redis-a',
      'config.logLevel': 'debug',
    });

    const deploy = await deployment();
    expect(deploy?.spec?.replicas).toBe(4);
    expect(deploy?.spec?.template.metadata?.annotations?.['platform.sqlize.dev/redis-config-hash']).toBe(
      'e2e-hash',
    );
    const env = deploy?.spec?.template.spec?.containers.find((c) => c.name === 'app')?.env ?? [];
    expect(env.filter((e) => e.name.startsWith('REDIS_')).map((e) => `${e.name}=${e.value}`)).toEqual([
      'REDIS_HOST=redis-b',
      'REDIS_PORT=6380',
    ]);
    const config = await getJson<{ data: Record<string, string> }>(
      namespace,
      'configmap',
      `${release}-config`,
    );
    expect(config?.data.LOG_LEVEL).toBe('debug');
  });

  it('helm uninstall leaves none of the release objects behind', async () => {
    await helm(binary, ['uninstall', release, '-n', namespace, '--wait', '--timeout', '120s']);
    // ReplicaSets and pods go by garbage collection, a moment after their Deployment.
    const leftovers = () =>
      kubectl([
        'get',
        'deployment,replicaset,service,configmap,secret,serviceaccount,hpa,pdb,job,networkpolicy,ingress',
        '-n',
        namespace,
        '-l',
        `app.kubernetes.io/instance=${release}`,
        '-o',
        'name',
      ]);
    await waitFor('no object of the release left', 60_000, async () =>
      (await leftovers()).trim() === '' ? true : undefined,
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}; left: ${(await leftovers()).trim()}`);
    });
    const releaseSecrets = await kubectl([
      'get',
      'secret',
      '-n',
      namespace,
      '-l',
      `name=${release},owner=helm`,
      '-o',
      'name',
    ]);
    expect(releaseSecrets.trim()).toBe('');
  });
});
