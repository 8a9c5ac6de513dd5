import { join } from 'node:path';
import { profileArgs, summariseProfiles } from './profile.js';
import { freePort, startProcess, waitUntilReady } from './process.js';
import type { Row } from './report.js';
import { median } from './stats.js';
import type { Subject, SubjectContext } from './subjects.js';
import { type WrkResult, wrk } from './wrk.js';

export interface MeasureOptions {
  seconds: number;
  warmupSeconds: number;
  rounds: number;
  connections: number;
  serverCpus: string;
  loadCpus: string;
  logDir: string;
  deps: Pick<SubjectContext, 'databaseUrl' | 'redisUrl'>;
  /** Run a group's subjects at once with interleaved rounds (see measureGroup). */
  interleave?: boolean;
  /** When set, every Node subject writes a CPU profile under this folder and its summary is printed. */
  profileDir?: string;
}

interface Running {
  subject: Subject;
  stop(): Promise<void>;
  load: { url: string; connections: number; headers?: Record<string, string>; cpus: string };
  rounds: WrkResult[];
}

/** Starts a subject pinned to the server core and waits until it is ready and prepared. */
async function start(subject: Subject, o: MeasureOptions): Promise<Running> {
  const ctx: SubjectContext = { port: await freePort(), ...o.deps };
  const base = `http://127.0.0.1:${ctx.port}`;
  const profileDir =
    o.profileDir && subject.command === process.execPath ? join(o.profileDir, subject.id) : '';
  const proc = startProcess(
    subject.command,
    profileDir ? [...profileArgs(profileDir), ...subject.args] : subject.args,
    subject.env(ctx),
    o.serverCpus,
    join(o.logDir, `${subject.id}.log`),
  );
  // The profile's load window opens once the subject is ready and prepared: start-up (module
  // loading through the tracing loader hooks, migrations, seeding) is not the request path.
  let loadStarted = Date.now();
  const stop = async () => {
    const stopping = Date.now();
    await proc.stop();
    if (!profileDir) return;
    const window = {
      loadSeconds: (stopping - loadStarted) / 1000,
      stopSeconds: (Date.now() - stopping) / 1000,
    };
    process.stderr.write(`${summariseProfiles(profileDir, subject.label, window)}\n`);
  };
  try {
    await waitUntilReady(subject.label, base + subject.readyPath, proc.child);
    const { path, headers } = await subject.prepare(ctx);
    loadStarted = Date.now();
    return {
      subject,
      stop,
      load: { url: base + path, connections: o.connections, headers, cpus: o.loadCpus },
      rounds: [],
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function toRow({ subject, rounds }: Running): Row {
  return {
    id: subject.id,
    label: subject.label,
    group: subject.group,
    ceiling: subject.ceiling ?? false,
    compareTo: subject.compareTo,
    rps: median(rounds.map((r) => r.rps)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
  };
}

/**
 * Measures subjects that are all running at once, with their rounds interleaved: round 1 loads each
 * in turn, then round 2, and so on. A slow stretch of the machine then lands on every subject instead
 * of on one. Each figure is the median over the rounds.
 */
async function measureTogether(subjects: Subject[], o: MeasureOptions): Promise<Row[]> {
  const running: Running[] = [];
  try {
    for (const subject of subjects) running.push(await start(subject, o));
    for (const r of running) await wrk({ ...r.load, seconds: o.warmupSeconds });
    for (let i = 1; i <= o.rounds; i++) {
      for (const r of running) {
        const result = await wrk({ ...r.load, seconds: o.seconds });
        r.rounds.push(result);
        process.stderr.write(
          `[bench] round ${i}/${o.rounds} ${r.subject.label}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(2)} ms\n`,
        );
      }
    }
    const rows = running.map(toRow);
    for (const row of rows)
      process.stderr.write(
        `[bench] ${row.label}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms, ${row.errors} errors (median of ${o.rounds})\n`,
      );
    return rows;
  } finally {
    for (const r of running) await r.stop();
  }
}

/**
 * Measures a group: by default one subject after the other, each alone on the server core; with
 * `interleave`, all of the group's processes at once with their rounds interleaved (steadier ratios
 * under slow drifts of a shared machine, but the idle processes' timers share the server core and
 * raise everyone's p99).
 */
export async function measureGroup(subjects: Subject[], o: MeasureOptions): Promise<Row[]> {
  if (o.interleave) return measureTogether(subjects, o);
  const rows: Row[] = [];
  for (const subject of subjects) rows.push(...(await measureTogether([subject], o)));
  return rows;
}
