// Our service as bench subjects: the built service (service/dist) started as its own process with
// production settings against the PostgreSQL and Redis that `make bench` started.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MeasureOptions } from './measure.js';
import { freePort, startProcess, waitUntilReady } from './process.js';
import type { Row } from './report.js';
import { rawPgSubject, REPO_ROOT, type Subject, type SubjectContext } from './subjects.js';

const SERVICE_MAIN = join(REPO_ROOT, 'service/dist/main.js');
const REDIS_PRIMITIVES = join(REPO_ROOT, 'service/dist/infrastructure/redis/index.js');
const ADMIN = { email: 'perf-admin@example.com', password: 'Xq7-Throughput-Secret!' };
const SEED_USERS = 50;
/** Middleware on the /live path that HTTP_DISABLED_MIDDLEWARE can switch off (probes are never rate limited). */
const LIVE_SWITCHES = ['helmet', 'request-id', 'access-log', 'metrics', 'tracing'] as const;
const JWT_SECRET = randomBytes(48).toString('hex');

export interface OurPrimitives {
  lockCycle(): Promise<unknown>;
  rateLimitConsume(): Promise<unknown>;
  cacheGet(): Promise<unknown>;
  close(): Promise<void>;
}

type Flags = Record<string, boolean>;

function serviceEnv(
  id: string,
  ctx: SubjectContext,
  stateDir: string,
  flags: Flags,
  extra: NodeJS.ProcessEnv = {},
) {
  // One flags file per subject: the service watches its file, and subjects may run at once.
  const flagsFile = join(stateDir, `flags-${id}.json`);
  writeFileSync(flagsFile, JSON.stringify(flags));
  return {
    ...process.env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(ctx.port),
    DATABASE_URL: ctx.databaseUrl,
    REDIS_URL: ctx.redisUrl,
    JWT_SECRET,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    STATE_DIR: stateDir,
    FEATURE_FLAGS_FILE: flagsFile,
    LOG_LEVEL: 'info',
    // The limiters run on every request, but with limits the load never reaches: their cost is
    // measured, not their rejections.
    RATE_LIMIT_CLIENT_POINTS: '1000000',
    RATE_LIMIT_USER_POINTS: '1000000',
    // Tracing on (spans created and batched) but exported nowhere: port 9 on loopback is closed.
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    SHUTDOWN_DELAY_MS: '0',
    SHUTDOWN_TIMEOUT_MS: '3000',
    ...extra,
  };
}

async function api<T>(base: string, path: string, init: RequestInit & { token?: string } = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('content-type', 'application/json');
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const res = await fetch(base + path, { ...init, headers });
  const text = await res.text();
  if (!res.ok)
    throw new Error(`${init.method ?? 'GET'} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function login(base: string): Promise<string> {
  const body = await api<{ accessToken: string }>(base, '/api/v1/auth/login', {
    method: 'POST',
    body: JSON.stringify(ADMIN),
  });
  return body.accessToken;
}

/** Starts the service once to migrate, bootstrap the admin and seed users; returns one user's id. */
async function seed(options: MeasureOptions, stateDir: string): Promise<string> {
  const ctx: SubjectContext = { port: await freePort(), ...options.deps };
  const base = `http://127.0.0.1:${ctx.port}`;
  const proc = startProcess(
    process.execPath,
    [SERVICE_MAIN],
    serviceEnv('seed', ctx, stateDir, {}),
    options.serverCpus,
    join(options.logDir, 'ours-seed.log'),
  );
  try {
    await waitUntilReady('our service (seeding)', `${base}/ready`, proc.child, 60_000);
    const token = await login(base);
    const existing = await api<{ items: Array<{ id: string }>; total: number }>(
      base,
      '/api/v1/users?limit=1&email=bench-0@example.com',
      { token },
    );
    if (existing.total === 0) {
      for (let i = 0; i < SEED_USERS; i++) {
        await api(base, '/api/v1/users', {
          method: 'POST',
          token,
          body: JSON.stringify({
            email: `bench-${i}@example.com`,
            name: `Bench User ${i}`,
            password: 'Zr4-Load-Generator-Key!',
          }),
        });
      }
    }
    const found = await api<{ items: Array<{ id: string }> }>(
      base,
      '/api/v1/users?limit=1&email=bench-0@example.com',
      { token },
    );
    const id = found.items[0]?.id;
    if (!id) throw new Error('seeding left no bench user behind');
    return id;
  } finally {
    await proc.stop();
  }
}

function ours(
  id: string,
  label: string,
  group: Subject['group'],
  stateDir: string,
  path: string,
  flags: Flags = {},
  extra: NodeJS.ProcessEnv = {},
  compareTo: string[] = [],
): Subject {
  return {
    id,
    label,
    group,
    compareTo,
    command: process.execPath,
    args: [SERVICE_MAIN],
    env: (ctx) => serviceEnv(id, ctx, stateDir, flags, extra),
    readyPath: '/ready',
    prepare: async (ctx) => {
      const base = `http://127.0.0.1:${ctx.port}`;
      if (path === '/live') return { path };
      const token = await login(base);
      await api(base, path, { token }); // the first read fills the cache for the hit subjects
      return { path, headers: { authorization: `Bearer ${token}` } };
    },
  };
}

export async function serviceSubjects(
  options: MeasureOptions,
): Promise<{ subjects: Subject[]; skipped: Row[] }> {
  if (!existsSync(SERVICE_MAIN)) {
    const reason = 'service/dist/main.js is not built (make build)';
    const skipped: Row[] = [
      {
        id: 'ours-live',
        label: 'ours: /live, full stack',
        group: 'http',
        ceiling: false,
        rps: NaN,
        p50Ms: NaN,
        p99Ms: NaN,
        errors: 0,
        skipped: reason,
      },
    ];
    return { subjects: [], skipped };
  }
  const stateDir = join(options.logDir, '..', 'service-state');
  mkdirSync(stateDir, { recursive: true });
  const userId = await seed(options, stateDir);
  const byId = `/api/v1/users/${userId}`;
  return {
    subjects: [
      ours('ours-live', 'ours: /live, full stack', 'http', stateDir, '/live'),
      // The same endpoint with one middleware off at a time: what each costs.
      ...LIVE_SWITCHES.map((m) =>
        ours(
          `ours-live-no-${m}`,
          `ours: /live without ${m}`,
          'http',
          stateDir,
          '/live',
          {},
          { HTTP_DISABLED_MIDDLEWARE: m },
        ),
      ),
      ours(
        'ours-user-hit',
        'ours: user by id, cache hit (Redis)',
        'database',
        stateDir,
        byId,
        {},
        { CACHE_LOCAL_TTL_MS: '0' },
        ['express'],
      ),
      ours(
        'ours-user-hit-local',
        'ours: user by id, cache hit (in-process tier)',
        'database',
        stateDir,
        byId,
        {},
        {},
        ['express'],
      ),
      ours('ours-user-miss', 'ours: user by id, cache off (PostgreSQL)', 'database', stateDir, byId, {
        cache: false,
      }),
      ours(
        'ours-list',
        'ours: users list, 20 per page',
        'database',
        stateDir,
        '/api/v1/users?limit=20&offset=0',
      ),
      rawPgSubject(userId),
    ],
    skipped: [],
  };
}

/** The service's own lock, rate limiter and cache, built against Redis without the HTTP app. */
export async function loadOurPrimitives(redisUrl: string): Promise<OurPrimitives | null> {
  if (!existsSync(REDIS_PRIMITIVES)) return null;
  const mod = (await import(pathToFileURL(REDIS_PRIMITIVES).href)) as {
    createBenchPrimitives?: (url: string) => Promise<OurPrimitives>;
  };
  return mod.createBenchPrimitives ? mod.createBenchPrimitives(redisUrl) : null;
}
