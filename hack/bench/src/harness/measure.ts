import { join } from 'node:path';
import { profileArgs, summariseProfiles } from './profile.js';
import { freePort, startProcess, waitUntilReady } from './process.js';
import type { Row } from './report.js';
import { median } from './stats.js';
import type { Subject, SubjectContext } from './subjects.js';
import { wrk } from './wrk.js';

export interface MeasureOptions {
  seconds: number;
  warmupSeconds: number;
  rounds: number;
  connections: number;
  serverCpus: string;
  loadCpus: string;
  logDir: string;
  deps: Pick<SubjectContext, 'databaseUrl' | 'redisUrl'>;
  /** When set, every Node subject writes a CPU profile under this folder and its summary is printed. */
  profileDir?: string;
}

/**
 * Starts one subject as its own process on the server core, loads it from the other core with wrk
 * (a warm-up, then several rounds), stops it, and reports the median of each figure over the rounds.
 */
export async function measure(subject: Subject, o: MeasureOptions): Promise<Row> {
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
  let loadStarted = Date.now();
  try {
    await waitUntilReady(subject.label, base + subject.readyPath, proc.child);
    const { path, headers } = await subject.prepare(ctx);
    loadStarted = Date.now();
    const load = { url: base + path, connections: o.connections, headers, cpus: o.loadCpus };
    await wrk({ ...load, seconds: o.warmupSeconds });
    const rounds = [];
    for (let i = 0; i < o.rounds; i++) rounds.push(await wrk({ ...load, seconds: o.seconds }));
    const row: Row = {
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
    process.stderr.write(
      `[bench] ${subject.label}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms, ${row.errors} errors\n`,
    );
    return row;
  } finally {
    const stopping = Date.now();
    await proc.stop();
    if (profileDir) {
      const window = {
        loadSeconds: (stopping - loadStarted) / 1000,
        stopSeconds: (Date.now() - stopping) / 1000,
      };
      process.stderr.write(`${summariseProfiles(profileDir, subject.label, window)}\n`);
    }
  }
}
