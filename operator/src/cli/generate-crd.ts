// Writes manifests/crd/<crd>.yaml from the zod schemas; with --check it only compares and exits 1 when
// the committed file is stale (make verify-manifests).
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderCrdYaml, CRD_FILE } from './crd-file.js';

const check = process.argv.includes('--check');
const root = process.argv.find((a) => a.startsWith('--root='))?.slice('--root='.length) ?? process.cwd();
const target = resolve(root, CRD_FILE);
const wanted = renderCrdYaml();

if (check) {
  let current: string;
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    current = '';
  }
  if (current !== wanted) {
    process.stderr.write(`${CRD_FILE} is stale: run \`make manifests\` and commit the result\n`);
    process.exit(1);
  }
  process.stdout.write(`${CRD_FILE} is up to date\n`);
} else {
  writeFileSync(target, wanted);
  process.stdout.write(`wrote ${CRD_FILE}\n`);
}
