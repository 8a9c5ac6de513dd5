import { afterAll, beforeAll, describe, it, expect } from '@jest/globals';
import { makeInformer, type V1ConfigMap } from '@kubernetes/client-node';
import { startComponents, stopComponents, isLocalCluster } from '../lib/cluster.js';
import { clients, uniqueName } from '../lib/kube.js';
import { waitFor } from '../lib/wait.js';
import { pauseDeployment, waitForReadyReplicas } from '../lib/workloads.js';

const { kubeConfig, core, apps } = clients();
const namespace = uniqueName('smoke-restart');
// Stopping etcd and the apiserver only makes sense on the cluster hack/cluster/ started.
const describeLocal = isLocalCluster() ? describe : describe.skip;

beforeAll(async () => {
  if (!isLocalCluster()) return;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: 'before' }, data: { kept: 'yes' } },
  });
});

afterAll(async () => {
  if (!isLocalCluster()) return;
  // Whatever happened in the test, leave etcd and the apiserver running for the next suite.
  await startComponents('etcd', 'kube-apiserver');
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describeLocal('an etcd and apiserver restart', () => {
  it('keeps the data, and clients, informers and controllers reconnect', async () => {
    const seen = new Set<string>();
    const informer = makeInformer<V1ConfigMap>(kubeConfig, `/api/v1/namespaces/${namespace}/configmaps`, () =>
      core.listNamespacedConfigMap({ namespace }),
    );
    informer.on('add', (cm) => seen.add(cm.metadata?.name ?? ''));
    // client-node's informer stops on a connection error; restarting it is the caller's job.
    let running = true;
    let restartPending = false;
    informer.on('error', () => {
      if (!running || restartPending) return;
      restartPending = true;
      setTimeout(() => {
        restartPending = false;
        if (running) void informer.start();
      }, 500);
    });
    await informer.start();
    try {
      await waitFor('the informer to list configmap/before', 10_000, async () =>
        seen.has('before') ? true : undefined,
      );

      await stopComponents('kube-apiserver', 'etcd');
      await expect(core.readNamespace({ name: namespace })).rejects.toThrow();

      await startComponents('etcd', 'kube-apiserver');

      // The same client object, with no new configuration, reads what was stored before the restart.
      const before = await waitFor('configmap/before to be readable again', 30_000, () =>
        core.readNamespacedConfigMap({ name: 'before', namespace }),
      );
      expect(before.data).toEqual({ kept: 'yes' });

      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'after' } } });
      await waitFor('the informer to see configmap/after', 30_000, async () =>
        seen.has('after') ? true : undefined,
      );

      // controller-manager, scheduler and kwok are clients too: a new Deployment still rolls out.
      await apps.createNamespacedDeployment({ namespace, body: pauseDeployment('after-restart', 2) });
      await waitForReadyReplicas(apps, namespace, 'after-restart', 2);
    } finally {
      running = false;
      await informer.stop();
    }
  });
});
