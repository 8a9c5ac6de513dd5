import { afterAll, beforeAll, describe, it, expect } from '@jest/globals';
import { type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { bodyOf, clients, statusOf, uniqueName } from '../lib/kube.js';
import { waitFor } from '../lib/wait.js';

const { core, extensions, custom } = clients();
const group = 'smoke.sqlize.dev';
const plural = 'widgets';
const crdName = `${plural}.${group}`;
const namespace = uniqueName('smoke-crd');
const ruleMessage = 'minReplicas must not exceed maxReplicas';

const crd: V1CustomResourceDefinition = {
  metadata: { name: crdName },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural, singular: 'widget', kind: 'Widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['minReplicas', 'maxReplicas'],
                properties: {
                  minReplicas: { type: 'integer', minimum: 1 },
                  maxReplicas: { type: 'integer', minimum: 1 },
                },
                x_kubernetes_validations: [
                  { rule: 'self.minReplicas <= self.maxReplicas', message: ruleMessage },
                ],
              },
            },
          },
        },
      },
    ],
  },
};

function widget(name: string, minReplicas: number, maxReplicas: number): object {
  return {
    apiVersion: `${group}/v1`,
    kind: 'Widget',
    metadata: { name },
    spec: { minReplicas, maxReplicas },
  };
}

beforeAll(async () => {
  await extensions.createCustomResourceDefinition({ body: crd });
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await waitFor(`CRD ${crdName} to be Established`, 30_000, async () => {
    const c = await extensions.readCustomResourceDefinition({ name: crdName });
    return c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') ? c : undefined;
  });
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await extensions.deleteCustomResourceDefinition({ name: crdName }).catch(() => undefined);
});

describe('a CRD with a CEL validation rule', () => {
  it('accepts an object that satisfies the rule', async () => {
    const created = (await custom.createNamespacedCustomObject({
      group,
      version: 'v1',
      namespace,
      plural,
      body: widget('good', 2, 5),
    })) as { metadata?: { uid?: string } };
    expect(created.metadata?.uid).toBeTruthy();
  });

  it("rejects an object that breaks the rule, with the rule's message", async () => {
    // Served as soon as Established, but the CEL program is compiled with the schema; a fresh CRD
    // can answer the first request before its validators are in place, so retry briefly on 404.
    const error = await waitFor('the apiserver to reject widget/bad', 30_000, async () => {
      try {
        await custom.createNamespacedCustomObject({
          group,
          version: 'v1',
          namespace,
          plural,
          body: widget('bad', 5, 2),
        });
        throw new Error('widget/bad with minReplicas 5 > maxReplicas 2 was accepted');
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        return e;
      }
    });
    expect(statusOf(error)).toBe(422);
    expect(bodyOf(error)).toContain(ruleMessage);
    await expect(
      custom.getNamespacedCustomObject({ group, version: 'v1', namespace, plural, name: 'bad' }),
    ).rejects.toMatchObject({
      code: 404,
    });
  });
});
