import { describe, it, expect } from '@jest/globals';
import { clients, uniqueName, waitForGone } from '../lib/kube.js';
import { pauseDeployment, waitForReadyReplicas } from '../lib/workloads.js';

const { core, apps } = clients();

describe('namespace deletion', () => {
  it('removes a namespace with workloads completely', async () => {
    const namespace = uniqueName('smoke-ns');
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'settings' }, data: { a: '1' } },
    });
    await apps.createNamespacedDeployment({ namespace, body: pauseDeployment('doomed', 2) });
    await waitForReadyReplicas(apps, namespace, 'doomed', 2);

    await core.deleteNamespace({ name: namespace });
    const gone = await waitForGone(`namespace ${namespace}`, 90_000, () =>
      core.readNamespace({ name: namespace }),
    );
    expect(gone).toBe(true);
  });
});
