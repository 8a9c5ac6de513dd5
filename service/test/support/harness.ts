// Starts the real service in-process (so coverage counts) on a throwaway SQLite file or a fresh
// PostgreSQL database, and offers a small fetch-based client.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Sequelize } from 'sequelize';
import { loadConfig } from '../../src/config/config.js';
import { compose, type Composition } from '../../src/composition-root.js';

export type Dialect = 'sqlite' | 'postgres';
export const ADMIN = { email: 'admin@example.test', password: 'Root-Passw0rd!x' };
export const JWT_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

export function pgAdminUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url)
    throw new Error('TEST_DATABASE_URL is not set: run `make test-integration` (it starts PostgreSQL)');
  return url;
}

// A fresh database per test file keeps parallel test files apart.
export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new Sequelize(pgAdminUrl(), { logging: false });
  const name = `esp_test_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.close();
  const url = new URL(pgAdminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = new Sequelize(pgAdminUrl(), { logging: false });
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.close();
    },
  };
}

export interface Response<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestService {
  baseUrl: string;
  composition: Composition;
  logs: string[];
  // Sent with every request unless the call overrides them.
  defaultHeaders: Record<string, string>;
  request<T = Record<string, unknown>>(
    method: string,
    url: string,
    opts?: RequestOptions,
  ): Promise<Response<T>>;
  login(email?: string, password?: string): Promise<string>;
  // Logs the admin in and sends the token with every later request (the operations endpoints
  // and the details of /health and /ready need it).
  asAdmin(): Promise<string>;
  stop(): Promise<void>;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

export async function startService(dialect: Dialect, env: Record<string, string> = {}): Promise<TestService> {
  let dbEnv: Record<string, string>;
  let cleanup: () => Promise<void>;
  if (dialect === 'postgres') {
    const db = await createPgDatabase();
    dbEnv = { DATABASE_URL: db.url };
    cleanup = db.drop;
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esp-test-'));
    dbEnv = { DB_DIALECT: 'sqlite', DB_STORAGE: path.join(dir, 'db.sqlite') };
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
  }
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET,
    BCRYPT_COST: '4',
    SHUTDOWN_DELAY_MS: '0',
    SHUTDOWN_TIMEOUT_MS: '2000',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: 'info',
    ...dbEnv,
    ...env,
  });
  const logs: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => logs.push(...chunk.toString().split('\n').filter(Boolean)));
  const composition = compose(config, { logStream: stream });
  try {
    await composition.service.start();
  } catch (err) {
    await composition.service.shutdown('start failed');
    await cleanup();
    throw err;
  }
  const baseUrl = `http://127.0.0.1:${composition.service.port}`;
  const defaultHeaders: Record<string, string> = {};

  async function request<T>(method: string, url: string, opts: RequestOptions = {}): Promise<Response<T>> {
    const headers: Record<string, string> = { ...defaultHeaders, ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(baseUrl + url, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = {};
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  async function login(email = ADMIN.email, password = ADMIN.password) {
    const res = await request<{ accessToken: string }>('POST', '/api/v1/auth/login', {
      body: { email, password },
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
    return res.body.accessToken;
  }

  return {
    baseUrl,
    composition,
    logs,
    defaultHeaders,
    request,
    login,
    async asAdmin() {
      const token = await login();
      defaultHeaders.authorization = `Bearer ${token}`;
      return token;
    },
    async stop() {
      await composition.service.shutdown('test');
      await cleanup();
    },
  };
}

// Everything a rejected write must leave alone.
export async function snapshot(s: TestService): Promise<string> {
  const { User, Session, RevokedToken } = s.composition.database.models;
  const [users, sessions, revoked] = await Promise.all([
    User.findAll({ order: [['id', 'ASC']], raw: true }),
    Session.findAll({ order: [['id', 'ASC']], raw: true }),
    RevokedToken.findAll({ order: [['jti', 'ASC']], raw: true }),
  ]);
  return JSON.stringify({ users, sessions, revoked });
}

export const dialects: Dialect[] = ['sqlite', 'postgres'];
