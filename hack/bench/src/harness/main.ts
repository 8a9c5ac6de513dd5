// make bench: every subject measured in one run on this machine, so that ratios hold even when the
// machine is noisy. Prints a table per group and a summary line per group; writes JSON and an SVG chart.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureGroup, type MeasureOptions } from './measure.js';
import { addRatios, type Row, svgChart, table } from './report.js';
import { PEER_SUBJECTS, REPO_ROOT, type Subject } from './subjects.js';
import { serviceSubjects } from './service-subjects.js';
import { redisPrimitiveRows } from './redis-primitives.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string' },
    // V8 CPU profiles of the Node subjects, summarised per function and package (figures then include
    // the profiler's overhead: compare profiles, not the table).
    profile: { type: 'boolean', default: false },
    // All subjects of a group running at once, rounds interleaved (hack/bench/README.md, Method).
    interleave: { type: 'boolean', default: false },
    out: { type: 'string', default: join(REPO_ROOT, 'hack/bench/results') },
  },
});

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: run the harness through 'make bench', which starts PostgreSQL and Redis`,
    );
  return value;
}

function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

function requireWrk(): void {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (error) {
    // wrk --version exits 1 after printing its version; only a missing binary is fatal.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('wrk is not installed: apt-get install -y wrk (make bench does it for you)', {
        cause: error,
      });
    }
  }
}

async function main(): Promise<void> {
  requireWrk();
  const nCpus = cpus().length;
  const options: MeasureOptions = {
    seconds: Number(values.seconds),
    warmupSeconds: Number(values.warmup),
    rounds: Number(values.rounds),
    connections: Number(values.connections),
    // Server on core 0, load generator (and the databases' share) on the others.
    serverCpus: '0',
    loadCpus: nCpus > 1 ? `1-${nCpus - 1}` : '0',
    logDir: '',
    deps: { databaseUrl: requireEnv('DATABASE_URL'), redisUrl: requireEnv('REDIS_URL') },
  };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = join(values.out, stamp);
  options.logDir = join(outDir, 'logs');
  mkdirSync(options.logDir, { recursive: true });
  options.interleave = values.interleave;
  if (values.profile) options.profileDir = join(outDir, 'profiles');
  const only = values.only?.split(',');
  const wanted = (s: Pick<Subject, 'id'>) => !only || only.some((o) => s.id.startsWith(o));

  const started = Date.now();
  process.stderr.write(
    `[bench] ${machine()}; ${options.rounds} rounds x ${options.seconds}s after ${options.warmupSeconds}s warm-up, ${options.connections} connections\n`,
  );

  const rows: Row[] = [];
  const ours = await serviceSubjects(options);
  const subjects = [...PEER_SUBJECTS, ...ours.subjects].filter(wanted);
  for (const group of ['http', 'database'] as const) {
    const members = subjects.filter((s) => s.group === group);
    if (members.length) rows.push(...(await measureGroup(members, options)));
  }
  rows.push(...ours.skipped);
  if (!only || only.includes('redis')) rows.push(...(await redisPrimitiveRows(options.deps.redisUrl)));
  addRatios(rows);

  const groups: Array<[string, Row[]]> = [
    ['HTTP: /live and peers (ratio to bare node:http / Express)', rows.filter((r) => r.group === 'http')],
    ['Database path: user by id (ratio to raw pg)', rows.filter((r) => r.group === 'database')],
    ['Redis primitives (ratio to the raw round trips they need)', rows.filter((r) => r.group === 'redis')],
  ];
  const caption = `make bench, ${new Date().toISOString().slice(0, 10)}, ${machine()}`;
  for (const [title, groupRows] of groups) if (groupRows.length) console.log(`\n${table(title, groupRows)}`);

  console.log('\n## Summary');
  for (const [title, groupRows] of groups) {
    const parts = groupRows
      .filter((r) => !r.skipped && !r.ceiling)
      .flatMap((r) => Object.entries(r.ratios ?? {}).map(([c, ratio]) => `${r.id}/${c}=${ratio.toFixed(2)}`));
    if (parts.length)
      console.log(`summary ${title.split(':')[0]!.split(' ')[0]!.toLowerCase()}: ${parts.join(' ')}`);
  }

  writeFileSync(join(outDir, 'results.json'), JSON.stringify({ caption, options, rows }, null, 2));
  writeFileSync(join(outDir, 'chart.svg'), svgChart(groups, caption));
  console.log(
    `\nwrote ${join(outDir, 'results.json')} and chart.svg in ${((Date.now() - started) / 1000).toFixed(0)}s`,
  );
}

main().catch((error: unknown) => {
  // A harness failure is a message for a person, not a stack trace.
  console.error(`bench: error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
