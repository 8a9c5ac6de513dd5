// Builds the ExpressApp CustomResourceDefinition from the zod schemas in types.ts.
import { z } from 'zod';
import {
  expressAppSpecSchema,
  expressAppStatusSchema,
  GROUP,
  KIND,
  PLURAL,
  SHORT_NAMES,
  CATEGORIES,
  SINGULAR,
  VERSION,
} from './types.js';

type JsonSchema = { [key: string]: unknown };

// Keywords a structural CRD schema accepts; anything else zod emits is a generator bug, reported loudly.
const ALLOWED = new Set([
  'type',
  'description',
  'properties',
  'required',
  'items',
  'additionalProperties',
  'default',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'enum',
  'minItems',
  'maxItems',
  'maxProperties',
  'nullable',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
]);

function toStructural(node: JsonSchema, path: string): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue;
    if (key === 'x-kubernetes-validations' && Array.isArray(value) && value.length === 0) continue;
    // zod's .int() adds the safe-integer range, which says nothing to a reader of the CRD.
    if ((key === 'minimum' || key === 'maximum') && Math.abs(value as number) === Number.MAX_SAFE_INTEGER)
      continue;
    if (!ALLOWED.has(key))
      throw new Error(`${path}: keyword "${key}" cannot go into a structural CRD schema`);
    if (key === 'properties') {
      const props: JsonSchema = {};
      for (const [name, child] of Object.entries(value as Record<string, JsonSchema>)) {
        props[name] = toStructural(child, `${path}.${name}`);
      }
      out[key] = props;
    } else if (
      (key === 'items' || key === 'additionalProperties') &&
      typeof value === 'object' &&
      value !== null
    ) {
      out[key] = toStructural(value as JsonSchema, `${path}[*]`);
    } else {
      out[key] = value;
    }
  }
  if (typeof out.type !== 'string') throw new Error(`${path}: every node needs a type (structural schema)`);
  // Map values and list items are described by their parent; every named field needs its own text.
  if (!path.endsWith('[*]') && typeof out.description !== 'string') {
    throw new Error(`${path}: missing description (kubectl explain would show nothing)`);
  }
  return out;
}

function jsonSchemaOf(schema: z.ZodType, path: string): JsonSchema {
  return toStructural(z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0' }) as JsonSchema, path);
}

export const CRD_NAME = `${PLURAL}.${GROUP}`;

export function buildCrd(): Record<string, unknown> {
  const readyPath = '.status.conditions[?(@.type=="Ready")].status';
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: CRD_NAME,
      labels: {
        'app.kubernetes.io/name': 'expressapp-operator',
        'app.kubernetes.io/part-of': 'express-sqlize-platform',
      },
      annotations: {
        'platform.sqlize.dev/generated-by': 'operator/src/cli/generate-crd.ts (do not edit by hand)',
      },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: SHORT_NAMES,
        categories: CATEGORIES,
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description:
                'ExpressApp governs one app installed by the express-sqlize chart: its replica count or autoscaling bounds, its Redis settings and its feature flags.',
              required: ['spec'],
              properties: {
                apiVersion: {
                  type: 'string',
                  description: 'APIVersion of this object: platform.sqlize.dev/v1alpha1.',
                },
                kind: { type: 'string', description: 'Kind of this object: ExpressApp.' },
                metadata: { type: 'object' },
                spec: jsonSchemaOf(expressAppSpecSchema, 'spec'),
                status: jsonSchemaOf(expressAppStatusSchema, 'status'),
              },
            },
          },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: [
            {
              name: 'Ready',
              type: 'string',
              jsonPath: readyPath,
              description: 'Whether the app runs the desired state.',
            },
            {
              name: 'Replicas',
              type: 'integer',
              jsonPath: '.status.replicas',
              description: 'Pods of the target Deployment.',
            },
            {
              name: 'Available',
              type: 'integer',
              jsonPath: '.status.availableReplicas',
              description: 'Available pods.',
            },
            {
              name: 'Flags',
              type: 'integer',
              jsonPath: '.status.flagCount',
              description: 'Feature flags applied.',
            },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}
