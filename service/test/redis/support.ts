// Shared by the Redis tier's suites: the server from hack/redis.sh, child workers, timing.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createPgDatabase, startService, type TestService } from '../support/harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '../../..');
export const WORKERS = path.join(here, 'workers');

export const REDIS_URL = process.env.REDIS_URL ?? '';
if (!REDIS_URL) throw new Error('REDIS_URL is not set: run through `make test-redis` (hack/with-deps.sh)');
export const REDIS_PORT = new URL(REDIS_URL).port;

// Each suite gets its own key prefix so suites never see each other's keys.
export function testPrefix(name: string): string {
  return `t:${name}:${process.pid}:${Date.now().toString(36)}:`;
}

export function rawRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: false });
}

// Stops or starts the tier's Redis (same port, same hack/redis.sh the Makefile used).
export function redisCtl(action: 'stop' | 'start'): void {
  execFileSync(path.join(REPO_ROOT, 'hack/redis.sh'), [action], {
    env: { ...process.env, REDIS_PORT },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export interface Worker {
  child: ChildProcess;
  lines: AsyncIterator<string>;
  next(): Promise<Record<string, unknown>>;
  send(msg: Record<string, unknown>): void;
  exited: Promise<number | null>;
}

// Starts workers/<name>.mjs; it talks JSON lines on stdin/stdout.
export function startWorker(name: string, env: Record<string, string> = {}): Worker {
  const child = spawn(process.execPath, [path.join(WORKERS, `${name}.mjs`)], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    async next() {
      const r = await lines.next();
      if (r.done) throw new Error(`worker ${name} closed its output`);
      return JSON.parse(r.value) as Record<string, unknown>;
    },
    send(msg) {
      child.stdin!.write(`${JSON.stringify(msg)}\n`);
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean> | boolean,
): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
  return Date.now() - t0;
}

// Figures the lead quotes: one line per measurement, easy to grep out of the test log.
// Written synchronously: jest's forceExit must not cut the last suite's figures off.
export function figure(test: string, values: Record<string, unknown>): void {
  fs.writeSync(1, `[figures] ${test}: ${JSON.stringify(values)}\n`);
}

export interface Replicas {
  a: TestService;
  b: TestService;
  stop(): Promise<void>;
}

/**
 * Two in-process replicas of the service sharing a fresh PostgreSQL database and this tier's Redis
 * under `prefix`, with a per-client rate limit no test reaches. `stop` also drops the database.
 */
export async function startTwoReplicas(prefix: string, env: Record<string, string> = {}): Promise<Replicas> {
  process.env.TEST_DATABASE_URL ??= process.env.DATABASE_URL;
  const db = await createPgDatabase();
  const shared = {
    DATABASE_URL: db.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    RATE_LIMIT_CLIENT_POINTS: '100000',
    ...env,
  };
  const started: TestService[] = [];
  const stop = async () => {
    await Promise.allSettled(started.map((s) => s.stop()));
    await db.drop();
  };
  try {
    started.push(await startService('postgres', shared));
    started.push(await startService('postgres', shared));
  } catch (error) {
    await stop();
    throw error;
  }
  return { a: started[0]!, b: started[1]!, stop };
}
