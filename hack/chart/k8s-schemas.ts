// Writes kubeconform schemas of the built-in kinds from the Kubernetes OpenAPI (swagger 2) document:
// OUT/<kind>-<group>-<version>.json with every $ref inlined, so validation needs no network.
// Usage: node hack/chart/k8s-schemas.ts SWAGGER.json OUT_DIR
import fs from 'node:fs';
import path from 'node:path';
import { strictify, type Schema } from './jsonschema-strict.ts';

type Gvk = { group: string; version: string; kind: string };
type Definition = Schema & { 'x-kubernetes-group-version-kind'?: Gvk[] };

const [swaggerFile, outDir] = process.argv.slice(2);
if (!swaggerFile || !outDir) {
  console.error('usage: k8s-schemas.ts SWAGGER.json OUT_DIR');
  process.exit(2);
}
const definitions = (
  JSON.parse(fs.readFileSync(swaggerFile, 'utf8')) as { definitions: Record<string, Definition> }
).definitions;

// Values the API server accepts as strings or numbers although the document says string.
const special: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { anyOf: [{ type: 'string' }, { type: 'integer' }] },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { anyOf: [{ type: 'string' }, { type: 'number' }] },
};

function inline(node: unknown, stack: string[]): unknown {
  if (Array.isArray(node)) return node.map((item) => inline(item, stack));
  if (typeof node !== 'object' || node === null) return node;
  const ref = (node as Schema)['$ref'];
  if (typeof ref === 'string') {
    const name = ref.replace('#/definitions/', '');
    if (special[name]) return special[name];
    // Recursive types (JSONSchemaProps) are left open rather than unrolled forever.
    if (stack.includes(name)) return {};
    const target = definitions[name];
    if (!target) throw new Error(`unresolved $ref ${ref}`);
    return inline(target, [...stack, name]);
  }
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'x-kubernetes-group-version-kind') continue;
    out[key] = inline(value, stack);
  }
  return out;
}

fs.mkdirSync(outDir, { recursive: true });
let written = 0;
for (const [name, definition] of Object.entries(definitions)) {
  for (const gvk of definition['x-kubernetes-group-version-kind'] ?? []) {
    if (name.endsWith('List') || gvk.kind.endsWith('List')) continue;
    const schema = strictify(inline(definition, [name])) as Schema;
    const props = schema['properties'] as Schema | undefined;
    // apiVersion and kind must match the file, as in upstream kubernetes-json-schema.
    if (props) {
      props['apiVersion'] = {
        type: 'string',
        enum: [gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version],
      };
      props['kind'] = { type: 'string', enum: [gvk.kind] };
    }
    const group = gvk.group === '' ? '' : `-${gvk.group.split('.')[0]}`;
    const file = path.join(outDir, `${gvk.kind.toLowerCase()}${group}-${gvk.version}.json`);
    fs.writeFileSync(file, JSON.stringify(schema) + '\n');
    written++;
  }
}
console.log(`wrote ${written} schemas of built-in kinds to ${outDir}`);
