// Writes one kubeconform schema per served version of every CustomResourceDefinition in the given
// YAML files: OUT/<group>/<kind>_<version>.json (kind lower-cased), the layout that
// `-schema-location 'OUT/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'` reads.
// Usage: node hack/chart/crd-schemas.ts OUT_DIR FILE.yaml...
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { strictify, type Schema } from './jsonschema-strict.ts';

type Crd = {
  kind?: string;
  spec?: {
    group: string;
    names: { kind: string };
    versions: { name: string; served: boolean; schema?: { openAPIV3Schema?: Schema } }[];
  };
};

const [outDir, ...files] = process.argv.slice(2);
if (!outDir || files.length === 0) {
  console.error('usage: crd-schemas.ts OUT_DIR CRD.yaml...');
  process.exit(2);
}

let written = 0;
for (const file of files) {
  for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message ?? 'YAML error'}`);
    const crd = doc.toJS() as Crd | null;
    if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
    for (const version of crd.spec.versions) {
      const schema = version.schema?.openAPIV3Schema;
      if (!version.served || !schema) continue;
      const strict = strictify(schema) as Schema;
      // Every object carries these three, whether or not the CRD author listed them.
      strict['properties'] = {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object' },
        ...(strict['properties'] as Schema | undefined),
      };
      const target = path.join(
        outDir,
        crd.spec.group,
        `${crd.spec.names.kind.toLowerCase()}_${version.name}.json`,
      );
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, JSON.stringify(strict, null, 1) + '\n');
      console.log(`${file}: ${crd.spec.names.kind} ${crd.spec.group}/${version.name} -> ${target}`);
      written++;
    }
  }
}
if (written === 0) {
  console.error(`no CustomResourceDefinition with a schema in ${files.join(', ')}`);
  process.exit(1);
}
