// Runs Helm 3 and Helm 4 (helm3 / helm4 from the tool cache, on PATH under make) against the chart
// of this repository, and kubectl for the few reads and applies that are clearer as manifests.
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const chartDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'chart');
// The tool cache's binaries first, so a suite started outside make (or the operator's tests, which
// import e2e/lib) finds the pinned kubectl and Helm without a PATH set up for it.
const toolsBin = resolve(
  process.env.ESP_CACHE_DIR ?? resolve(process.env.HOME ?? '/root', '.cache', 'express-sqlize-platform'),
  'bin',
);
export const toolsEnv = { ...process.env, PATH: `${toolsBin}:${process.env.PATH ?? ''}` };
/**
 * Values files every install adds after the suite's own (E2E_VALUES, comma-separated): on kind they
 * point the chart at the locally built image and the in-cluster database, so pods really start.
 */
export const extraValuesFiles = (process.env.E2E_VALUES ?? '')
  .split(',')
  .filter((f) => f !== '')
  .map((f) => resolve(f));
export const HELM_MAJORS = ['helm3', 'helm4'] as const;
export type HelmBinary = (typeof HELM_MAJORS)[number];

/** Runs a command and returns its stdout; a failure carries the command's stderr in its message. */
async function exec(binary: string, args: string[], input?: string): Promise<string> {
  const child = run(binary, args, { env: toolsEnv, maxBuffer: 32 * 1024 * 1024, timeout: 170_000 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    return (await child).stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${binary} ${args.join(' ')} failed: ${stderr || String(error)}`, { cause: error });
  }
}

export function helm(binary: HelmBinary, args: string[]): Promise<string> {
  return exec(binary, args);
}

/** helm upgrade --install of ./chart with values files and --set pairs, waiting for the release to be ready. */
export function helmUpgrade(
  binary: HelmBinary,
  release: string,
  namespace: string,
  set: Record<string, string>,
  valuesFiles: string[] = [],
): Promise<string> {
  const files = [...valuesFiles, ...extraValuesFiles].flatMap((file) => ['-f', file]);
  const sets = Object.entries(set).flatMap(([key, value]) => ['--set', `${key}=${value}`]);
  return helm(binary, [
    'upgrade',
    '--install',
    release,
    chartDir,
    '-n',
    namespace,
    '--wait',
    '--timeout',
    '120s',
    ...files,
    ...sets,
  ]);
}

export function kubectl(args: string[], input?: string): Promise<string> {
  return exec('kubectl', args, input);
}

/** kubectl apply of one object, as a person pipes a manifest to it. */
export function applyObject(object: object): Promise<string> {
  return kubectl(['apply', '-f', '-'], JSON.stringify(object));
}

/** An object as JSON through kubectl (undefined when it does not exist). */
export async function getJson<T>(namespace: string, kind: string, name: string): Promise<T | undefined> {
  const out = await kubectl(['get', kind, name, '-n', namespace, '-o', 'json', '--ignore-not-found']);
  return out.trim() === '' ? undefined : (JSON.parse(out) as T);
}
