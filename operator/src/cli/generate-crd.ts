// Writes the CRD YAML (manifests/crd and the operator chart's crds/) from the zod schemas; with
// --check it only compares and exits 1 when a committed file is stale (make verify-manifests).
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderCrdYaml, CRD_FILES } from './crd-file.js';

const check = process.argv.includes('--check');
const root = process.argv.find((a) => a.startsWith('--root='))?.slice('--root='.length) ?? process.cwd();
const wanted = renderCrdYaml();

const read = (file: string): string => {
  try {
    return readFileSync(resolve(root, file), 'utf8');
  } catch {
    return '';
  }
};

if (check) {
  const stale = CRD_FILES.filter((f) => read(f) !== wanted);
  for (const f of stale)
    process.stderr.write(`${f} is stale: run \`make manifests\` and commit the result\n`);
  if (stale.length > 0) process.exit(1);
  process.stdout.write(`${CRD_FILES.join(', ')}: up to date\n`);
} else {
  for (const f of CRD_FILES) {
    writeFileSync(resolve(root, f), wanted);
    process.stdout.write(`wrote ${f}\n`);
  }
}
