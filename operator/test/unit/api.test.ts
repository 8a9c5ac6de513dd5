import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseSpec } from '../../src/api/v1alpha1/types.js';
import { buildCrd } from '../../src/api/v1alpha1/crd.js';
import { renderCrdYaml, CRD_FILES } from '../../src/cli/crd-file.js';

type Node = { [k: string]: unknown };

describe('ExpressApp API', () => {
  it.each(CRD_FILES)(
    'the committed %s matches the zod schemas (run `make manifests` when this fails)',
    (file) => {
      const committed = readFileSync(resolve(import.meta.dirname, '../../..', file), 'utf8');
      expect(committed).toBe(renderCrdYaml());
    },
  );

  it('gives every spec and status field a description and a type', () => {
    const version = (buildCrd().spec as Node).versions as Node[];
    const root = ((version[0]!.schema as Node).openAPIV3Schema as Node).properties as Node;
    const missing: string[] = [];
    const walk = (n: Node, path: string) => {
      if (typeof n.type !== 'string') missing.push(`${path} (type)`);
      if (!path.endsWith('[*]') && typeof n.description !== 'string') missing.push(path);
      for (const [k, c] of Object.entries((n.properties as Record<string, Node>) ?? {}))
        walk(c, `${path}.${k}`);
      if (n.items) walk(n.items as Node, `${path}[*]`);
    };
    walk(root.spec as Node, 'spec');
    walk(root.status as Node, 'status');
    expect(missing).toEqual([]);
  });

  it('declares status and scale subresources and the printer columns', () => {
    const v = ((buildCrd().spec as Node).versions as Node[])[0]!;
    expect(v.subresources).toEqual({
      status: {},
      scale: {
        specReplicasPath: '.spec.replicas',
        statusReplicasPath: '.status.replicas',
        labelSelectorPath: '.status.selector',
      },
    });
    expect((v.additionalPrinterColumns as Node[]).map((c) => c.name)).toEqual([
      'Ready',
      'Replicas',
      'Available',
      'Flags',
      'Age',
    ]);
  });

  it('applies defaults and accepts a complete spec', () => {
    const r = parseSpec({ replicas: 2, redis: { host: 'redis' }, featureFlags: { newCheckout: true } });
    expect(r).toEqual({
      ok: true,
      spec: {
        replicas: 2,
        redis: { host: 'redis', port: 6379, db: 0, tls: false, keyPrefix: '', authEnabled: false },
        featureFlags: { newCheckout: true },
      },
    });
  });

  it.each([
    [{ replicas: 2, autoscaling: { maxReplicas: 3 } }, 'set exactly one of spec.replicas'],
    [{}, 'set exactly one of spec.replicas'],
    [{ autoscaling: { minReplicas: 5, maxReplicas: 3 } }, 'minReplicas must be less than or equal'],
    [{ replicas: 1, redis: { host: 'r', port: 70000 } }, 'port must be a TCP port'],
    [{ replicas: 1, redis: { host: 'r', authEnabled: true } }, 'passwordSecretRef must name the Secret'],
    [{ replicas: 1, featureFlags: { 'Bad Name': true } }, 'every key of spec.featureFlags must match'],
  ])('rejects %j with a readable message', (spec, message) => {
    const r = parseSpec(spec);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toContain(message);
  });
});
