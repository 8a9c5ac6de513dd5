import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const PEERS = fileURLToPath(new URL('../peers/', import.meta.url));

export type Group = 'http' | 'database';

/** What a subject needs before its measurement: a started process plus per-run preparation. */
export interface SubjectContext {
  port: number;
  /** Connection strings of the local dependencies started by `make bench`. */
  databaseUrl: string;
  redisUrl: string;
}

export interface Subject {
  id: string;
  label: string;
  group: Group;
  /** The subject's ceiling in its group: ratios are computed against it. */
  ceiling?: boolean;
  /** Ceilings of other groups this subject is also compared with (e.g. a cache hit with bare Express). */
  compareTo?: string[];
  command: string;
  args: string[];
  env(ctx: SubjectContext): NodeJS.ProcessEnv;
  readyPath: string;
  /** Runs once the process is ready; returns the path to load and the headers to send. */
  prepare(ctx: SubjectContext): Promise<{ path: string; headers?: Record<string, string> }>;
}

const node = process.execPath;
const plain = (path: string) => async () => ({ path });

function peer(id: string, label: string, file: string, group: Group, path: string, ceiling = false): Subject {
  return {
    id,
    label,
    group,
    ceiling,
    command: node,
    args: [`${PEERS}${file}`],
    env: (ctx) => ({
      ...process.env,
      PORT: String(ctx.port),
      DATABASE_URL: ctx.databaseUrl,
      NODE_ENV: 'production',
    }),
    readyPath: '/live',
    prepare: plain(path),
  };
}

export const PEER_SUBJECTS: Subject[] = [
  peer('node-http', 'node:http (ceiling)', 'node-http.js', 'http', '/live', true),
  peer('express', 'Express 5 bare', 'express.js', 'http', '/live', true),
  peer('fastify', 'Fastify 5', 'fastify.js', 'http', '/live'),
  peer('nestjs', 'NestJS 12 + helmet, throttler, request id, metrics', 'nest.js', 'http', '/live'),
];

/** The raw-pg peer needs a real user id, so its path is filled in by the harness after seeding. */
export function rawPgSubject(userId: string): Subject {
  const subject = peer('raw-pg', 'Express + raw pg (ceiling)', 'raw-pg.js', 'database', '/users/:id', true);
  return { ...subject, prepare: plain(`/users/${userId}`) };
}
