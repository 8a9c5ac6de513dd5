// Drives the local control plane's own scripts (hack/cluster/), for tests that stop and start it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root: the nearest folder above this module that holds hack/cluster. */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(dir, 'hack', 'cluster', 'up.sh'))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('hack/cluster/up.sh not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}
export const repoRoot = findRepoRoot();
const clusterScripts = resolve(repoRoot, 'hack', 'cluster');

/** True when KUBECONFIG is the local cluster that hack/cluster/up.sh started (not kind or another). */
export function isLocalCluster(): boolean {
  const state = process.env.ESP_STATE_DIR ?? resolve(repoRoot, '.local');
  const local = resolve(state, 'cluster', 'kubeconfig');
  return (
    process.env.KUBECONFIG !== undefined && resolve(process.env.KUBECONFIG) === local && existsSync(local)
  );
}

export async function stopComponents(...components: string[]): Promise<void> {
  await run(resolve(clusterScripts, 'down.sh'), components, { cwd: repoRoot });
}

/** Starts the named components; returns when the apiserver answers /readyz and a node is Ready. */
export async function startComponents(...components: string[]): Promise<void> {
  await run(resolve(clusterScripts, 'up.sh'), components, { cwd: repoRoot });
}
