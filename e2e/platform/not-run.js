// Jest globalSetup of the platform project: says which checks this run does not make, so a green run
// on the local cluster is never mistaken for one that proved what only real pods can show. The tests
// under platform/kind/ are listed from their own titles, so the list cannot drift from them.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const kindDir = join(dirname(fileURLToPath(import.meta.url)), 'kind');

/** What no test of this suite checks on any cluster yet; each needs real pods (see e2e/README.md). */
const NEVER_CHECKED = [
  "the chart's own HPA (no ExpressApp) scaling on real CPU and memory metrics; platform/kind/governed.test.ts scales the ExpressApp's HPA on CPU",
  "the chart's other alerts firing on their own faults (5xx rate, latency, restarts, no ready pod, failing scrape); platform/kind/monitoring.test.ts loads and evaluates them all but makes only ExpressSqlizeDependencyDown fire",
];

export default function notRun() {
  const out = [''];
  // make test exports the tiers it runs: with the kind tier among them, these do run, on kind.
  const kindTierRuns = (process.env.ESP_TEST_TIERS ?? '').split(/\s+/).includes('test-e2e-kind');
  if (process.env.E2E_CLUSTER !== 'kind') {
    out.push(
      kindTierRuns
        ? '[platform] not run on this cluster (pods are simulated); the kind tier of this run (make test-e2e-kind) runs them:'
        : '[platform] NOT RUN on this cluster (pods are simulated); make e2e E2E_CLUSTER=kind runs them:',
    );
    for (const file of readdirSync(kindDir)
      .filter((f) => f.endsWith('.test.ts'))
      .sort()) {
      const source = readFileSync(join(kindDir, file), 'utf8');
      for (const match of source.matchAll(/\bit\(\s*(['"`])(.*?)\1/g)) {
        out.push(`  - ${match[2]} (platform/kind/${file})`);
      }
    }
  }
  out.push(
    '[platform] not checked by any test, on any cluster:',
    ...NEVER_CHECKED.map((w) => `  - ${w}`),
    '',
  );
  process.stderr.write(out.join('\n') + '\n');
}
