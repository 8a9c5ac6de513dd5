import { afterAll, beforeAll, describe, it, expect } from '@jest/globals';
import { clients, uniqueName, waitForGone } from '../lib/kube.js';
import { waitFor } from '../lib/wait.js';
import { PAUSE_IMAGE, pauseDeployment, waitForReadyReplicas } from '../lib/workloads.js';

const { core, apps, batch, autoscaling } = clients();
const namespace = uniqueName('smoke-workloads');
beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe('a Deployment on simulated nodes', () => {
  it('reaches 3 ready replicas, each pod Running on a node', async () => {
    await apps.createNamespacedDeployment({ namespace, body: pauseDeployment('web', 3) });
    const ready = await waitForReadyReplicas(apps, namespace, 'web', 3);
    expect(ready.status?.replicas).toBe(3);

    const pods = (await core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items;
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(pod.spec?.nodeName).toMatch(/^kwok-node-/);
      expect(pod.status?.phase).toBe('Running');
      expect(pod.status?.podIP).toBeTruthy();
    }
  });

  it('garbage-collects its ReplicaSet and pods when deleted', async () => {
    const replicaSets = (await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=web' })).items;
    expect(replicaSets.length).toBeGreaterThan(0);

    await apps.deleteNamespacedDeployment({ name: 'web', namespace });
    await waitForGone('deployment/web', 30_000, () =>
      apps.readNamespacedDeployment({ name: 'web', namespace }),
    );
    await waitFor('the ReplicaSet and pods to be garbage-collected', 60_000, async () => {
      const rs = (await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=web' })).items;
      const pods = (await core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items;
      return rs.length === 0 && pods.length === 0 ? true : undefined;
    });
  });

  it('runs a Job to completion', async () => {
    await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: 'once' },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'once', image: PAUSE_IMAGE }],
            },
          },
        },
      },
    });
    const job = await waitFor('job/once to succeed', 60_000, async () => {
      const j = await batch.readNamespacedJob({ name: 'once', namespace });
      return j.status?.succeeded === 1 ? j : undefined;
    });
    expect(job.status?.conditions?.find((c) => c.type === 'Complete')?.status).toBe('True');
  });

  it('is scaled up to its HorizontalPodAutoscaler minimum by the HPA controller', async () => {
    // No metrics API here, but the controller raises replicas below minReplicas without metrics.
    await apps.createNamespacedDeployment({ namespace, body: pauseDeployment('scaled', 1) });
    await autoscaling.createNamespacedHorizontalPodAutoscaler({
      namespace,
      body: {
        metadata: { name: 'scaled' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'scaled' },
          minReplicas: 2,
          maxReplicas: 4,
          metrics: [
            {
              type: 'Resource',
              resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
            },
          ],
        },
      },
    });
    const scaled = await waitForReadyReplicas(apps, namespace, 'scaled', 2);
    expect(scaled.spec?.replicas).toBe(2);
  });
});
