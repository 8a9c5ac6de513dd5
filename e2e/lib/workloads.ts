// Small workloads the suites create: pods never run a real image here (kwok only simulates them),
// so the image is the tiny pause image, valid on a real cluster too.
import { type AppsV1Api, type V1Deployment } from '@kubernetes/client-node';
import { waitFor } from './wait.js';

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
