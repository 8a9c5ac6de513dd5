// Small workloads the suites create: pods never run a real image here (kwok only simulates them),
// so the image is the tiny pause image, valid on a real cluster too. On kind, suites that need a
// dependency of their own (a second Redis, a PostgreSQL they may stop) copy one of hack/e2e.sh's.
import type { AppsV1Api, V1Deployment, V1Secret, V1Service } from '@kubernetes/client-node';
import { applyObject, getJson, kubectl } from './helm.js';
import { waitFor } from './wait.js';

/** The namespace of hack/e2e.sh's throw-away PostgreSQL and Redis on kind. */
export const DEPENDENCIES_NAMESPACE = 'express-sqlize';

export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';

export function pauseDeployment(name: string, replicas: number): V1Deployment {
  const labels = { app: name };
  return {
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name, image: PAUSE_IMAGE }] } },
    },
  };
}

/** Waits until the Deployment reports `replicas` ready and available pods. */
export function waitForReadyReplicas(
  apps: AppsV1Api,
  namespace: string,
  name: string,
  replicas: number,
  timeoutMs = 90_000,
): Promise<V1Deployment> {
  return waitFor(`${replicas} ready replicas of deployment/${name}`, timeoutMs, async () => {
    const d = await apps.readNamespacedDeployment({ name, namespace });
    return d.status?.readyReplicas === replicas && d.status.availableReplicas === replicas ? d : undefined;
  });
}

/**
 * Starts a copy of one of hack/e2e.sh's dependencies (Deployment and Service `dependency` in
 * DEPENDENCIES_NAMESPACE: postgresql, redis) as `name` in `namespace`: the same container (its image
 * is already in the node), the Secrets its env reads, a Service with the same ports. Returns the
 * copy's in-cluster host name once it is ready, so a suite can stop it without touching the shared one.
 */
export async function copyDependency(
  dependency: string,
  namespace: string,
  name = dependency,
): Promise<string> {
  const source = await getJson<V1Deployment>(DEPENDENCIES_NAMESPACE, 'deployment', dependency);
  const container = source?.spec?.template.spec?.containers[0];
  if (!container?.image) throw new Error(`no deployment/${dependency} in ${DEPENDENCIES_NAMESPACE} to copy`);
  const secrets = new Set((container.env ?? []).flatMap((e) => e.valueFrom?.secretKeyRef?.name ?? []));
  for (const secret of secrets) {
    const s = await getJson<V1Secret>(DEPENDENCIES_NAMESPACE, 'secret', secret);
    if (!s) throw new Error(`deployment/${dependency} reads secret/${secret}, which does not exist`);
    await applyObject({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secret, namespace },
      type: s.type,
      data: s.data,
    });
  }
  const service = await getJson<V1Service>(DEPENDENCIES_NAMESPACE, 'service', dependency);
  const labels = { app: name };
  await applyObject({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [container] } },
    },
  });
  await applyObject({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: {
      selector: labels,
      ports: service?.spec?.ports?.map(({ name: n, port, targetPort }) => ({ name: n, port, targetPort })),
    },
  });
  await kubectl(['rollout', 'status', `deployment/${name}`, '-n', namespace, '--timeout=120s']);
  return `${name}.${namespace}.svc.cluster.local`;
}
