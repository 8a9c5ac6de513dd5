import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import express from 'express';
import {
  ConnectionRefusedError,
  DatabaseError,
  ValidationError as SequelizeValidationError,
} from 'sequelize';
import { loadConfig } from '../../src/config/config.js';
import { resolveJwtSecret } from '../../src/config/jwt-secret.js';
import { errorHandler, isDatabaseUnavailable, notFound } from '../../src/http/middleware/errors.js';
import { requestContextMiddleware } from '../../src/http/middleware/request-context.js';
import { LoggerFactory } from '../../src/infrastructure/logging/logger.js';

const logs: string[] = [];
const stream = new PassThrough();
stream.on('data', (d: Buffer) => logs.push(d.toString()));
const log = new LoggerFactory({
  level: 'info',
  format: 'json',
  debugCategories: [],
  service: 't',
  stream,
}).get('http');

function pgError(code: string, message = 'x'): DatabaseError {
  const original = Object.assign(new Error(message), { code, sql: 'SELECT secret FROM users' });
  return new DatabaseError(original as ConstructorParameters<typeof DatabaseError>[0]);
}

describe('error mapping', () => {
  it('recognises an unreachable database', () => {
    expect(isDatabaseUnavailable(new ConnectionRefusedError(new Error('refused')))).toBe(true);
    expect(isDatabaseUnavailable(pgError('57P01'))).toBe(true);
    expect(isDatabaseUnavailable(pgError('', 'Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(pgError('23505'))).toBe(false);
    expect(isDatabaseUnavailable(new SequelizeValidationError('bad', []))).toBe(false);
    expect(isDatabaseUnavailable(new Error('other'))).toBe(false);
  });

  it('answers 503 for an outage and a bare 500 for anything unexpected, never leaking internals', async () => {
    const app = express();
    app.use(requestContextMiddleware());
    app.get('/down', () => {
      throw pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432');
    });
    app.get('/bug', () => {
      throw pgError('42P01', 'relation "users" does not exist');
    });
    app.get('/late', (_req, res, next) => {
      res.write('partial');
      next(new Error('after headers'));
    });
    app.use(notFound());
    app.use(errorHandler(log));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const down = await fetch(`${base}/down`);
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('5');
      const bug = await fetch(`${base}/bug`);
      expect(bug.status).toBe(500);
      const text = await bug.text();
      expect(text).not.toMatch(/relation|SELECT|users/);
      expect(JSON.parse(text)).toMatchObject({
        type: 'https://platform.sqlize.dev/problems/internal',
        requestId: expect.any(String),
      });
      expect(logs.join('')).toContain('relation \\"users\\" does not exist');
      await expect(fetch(`${base}/late`).then((r) => r.text())).rejects.toThrow();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('development JWT secret', () => {
  it('is generated once, kept with mode 600, and reused', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-'));
    try {
      const config = loadConfig({ STATE_DIR: path.join(dir, 'state') });
      const first = resolveJwtSecret(config);
      expect(first.secret.length).toBeGreaterThanOrEqual(32);
      expect(first.generatedAt).toBe(path.join(dir, 'state', 'jwt-secret'));
      expect(resolveJwtSecret(config).secret).toBe(first.secret);
      expect(resolveJwtSecret(loadConfig({ STATE_DIR: dir, JWT_SECRET: 'given' }))).toEqual({
        secret: 'given',
      });
      const prod = { ...config, isProduction: true };
      expect(() => resolveJwtSecret(prod)).toThrow(/required in production/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
