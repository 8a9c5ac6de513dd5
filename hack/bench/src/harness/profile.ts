// `make bench BENCH_ARGS="--profile --only ours-user-hit"`: a V8 CPU profile of each Node subject under
// load, summarised as self time per function and per package, so that "where does the time go" has an
// answer in the terminal without opening DevTools.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Node flags that make a subject write its profile into `dir` when it exits. */
export function profileArgs(dir: string): string[] {
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** Where a frame's code comes from: an npm package, Node itself, our service, or V8's own work. */
function origin(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? `ours:${url.slice(dist + '/dist/'.length).split('/')[0]}` : url;
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + 1) : url.replace(/^file:\/\//, '');
}

function name(frame: CallFrame): string {
  return frame.url
    ? `${frame.functionName || '(anonymous)'}  ${shortUrl(frame.url)}:${frame.lineNumber + 1}`
    : frame.functionName;
}

function top(totals: Map<string, number>, all: number, n: number): string[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => `  ${((100 * us) / all).toFixed(1).padStart(5)} %  ${name}`);
}

/** The part of a profile that was under load: the seconds before the subject was told to stop. */
export interface LoadWindow {
  loadSeconds: number;
  stopSeconds: number;
}

/**
 * Self time per function and per package of every profile `dir` holds, as printable lines. Only the
 * load window counts: start-up (module loading, migrations) and shutdown are not the request path and
 * would otherwise dominate a short run.
 */
export function summariseProfiles(dir: string, label: string, window: LoadWindow, n = 20): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return `[profile] ${label}: no profile written (did the process exit cleanly?)`;
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  // Time with callees, each function counted once per sample even when it recurses.
  const inclusive = new Map<string, number>();
  let all = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
    const parents = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
    const to = profile.endTime - window.stopSeconds * 1e6;
    const from = to - window.loadSeconds * 1e6;
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      const frame = frames.get(id);
      const us = profile.timeDeltas[i] ?? 0;
      at += us;
      if (at < from || at > to || !frame || frame.functionName === '(idle)') return;
      all += us;
      byFunction.set(name(frame), (byFunction.get(name(frame)) ?? 0) + us);
      const seen = new Set<string>();
      for (let node: number | undefined = id; node !== undefined; node = parents.get(node)) {
        const caller = frames.get(node);
        if (caller?.url) seen.add(name(caller));
      }
      for (const fn of seen) inclusive.set(fn, (inclusive.get(fn) ?? 0) + us);
      const where = origin(frame);
      byOrigin.set(where, (byOrigin.get(where) ?? 0) + us);
    });
  }
  return [
    `[profile] ${label}: ${(all / 1e6).toFixed(1)} s busy CPU in ${window.loadSeconds.toFixed(0)} s under load, in ${files.length} profile(s) under ${dir}`,
    'self time by origin:',
    ...top(byOrigin, all, n),
    'self time by function:',
    ...top(byFunction, all, n),
    'total time by function (with what it calls):',
    ...top(inclusive, all, 2 * n),
  ].join('\n');
}
