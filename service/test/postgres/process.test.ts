import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { distEntry, runNode, startServer } from '../support/processes.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esp-proc-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the service process', () => {
  it('stops at start-up with one message naming every bad variable', async () => {
    const run = await runNode(distEntry('main.js'), {
      PORT: 'eighty',
      DB_DIALECT: 'mysql',
      BCRYPT_COST: '99',
      JWT_SECRET: 'x',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^invalid configuration:/);
    for (const name of ['PORT', 'DB_DIALECT', 'BCRYPT_COST']) expect(run.stderr).toContain(`${name}:`);
    expect(run.stderr).toContain('(got "eighty")');
  });

  it('writes log lines in batches yet loses none when the process exits right after logging', async () => {
    // The logger batches lines per event-loop turn; an exit before the next turn must still flush.
    const script = path.join(dir, 'log-then-exit.mjs');
    const logger = distEntry('infrastructure/logging/logger.js');
    fs.writeFileSync(
      script,
      `import { LoggerFactory } from ${JSON.stringify(logger)};
const log = new LoggerFactory({ level: 'info', format: 'json', debugCategories: [], service: 's' }).get('app');
for (let i = 0; i < 2000; i++) log.info('line', { i, pad: 'x'.repeat(40) });
log.error('last words', { password: 'hunter2' });
process.exit(3);
`,
    );
    const run = await runNode(script, {});
    expect(run.code).toBe(3);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2001);
    expect(lines.slice(0, 2000).map((l) => l.i)).toEqual([...Array(2000).keys()]);
    expect(lines[2000]).toMatchObject({ level: 'error', message: 'last words', password: '[REDACTED]' });
  });

  it('refuses a weak or missing JWT_SECRET in production', async () => {
    const weak = await runNode(distEntry('main.js'), { NODE_ENV: 'production', JWT_SECRET: 'changeme' });
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain('JWT_SECRET: must be at least 32 characters');
    expect(weak.stderr).not.toContain('changeme');
    const missing = await runNode(distEntry('main.js'), { NODE_ENV: 'production' });
    expect(missing.stderr).toContain('JWT_SECRET: is required in production');
  });

  it('works without any environment: generated dev secret, migrations, admin credentials printed once', async () => {
    const env = { STATE_DIR: dir, SHUTDOWN_DELAY_MS: '0', BCRYPT_COST: '4' };
    const first = await startServer(env);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    const out = first.output();
    expect(out).toContain('JWT_SECRET is not set: using a generated development secret');
    expect(out).toContain('bootstrap admin created');
    const password = /password: (\S+)/.exec(out)?.[1];
    expect(password).toBeDefined();
    expect(fs.existsSync(path.join(dir, 'express-sqlize.sqlite'))).toBe(true);
    expect(fs.statSync(path.join(dir, 'jwt-secret')).mode & 0o777).toBe(0o600);

    const second = await startServer({ ...env, SHUTDOWN_DELAY_MS: '60000' });
    try {
      expect(second.output()).not.toContain('bootstrap admin created');
      const login = await fetch(`http://127.0.0.1:${second.port}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@example.com', password }),
      });
      expect(login.status).toBe(200);
    } finally {
      // Ctrl-C skips the readiness delay (60 s here), so this returns promptly.
      const stoppedAt = Date.now();
      second.child.kill('SIGINT');
      expect((await second.exited).code).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    }
    // Only the JSON log lines and the two human lines reach stdout; the password is never in a log line.
    const jsonLines = out.split('\n').filter((l) => l.startsWith('{'));
    expect(jsonLines.some((l) => l.includes(password as string))).toBe(false);
  }, 60_000);

  it.each([
    [
      'an uncaught exception',
      'setTimeout(() => { throw new Error("boom-exception"); }, 1500)',
      'uncaught exception; exiting',
    ],
    [
      'an unhandled rejection',
      'setTimeout(() => { Promise.reject(new Error("boom-rejection")); }, 1500)',
      'unhandled promise rejection; exiting',
    ],
  ])('logs %s and exits 1', async (_what, code, message) => {
    // The fault is injected by a preloaded module, so the service needs no test hook.
    const preload = `data:text/javascript,${encodeURIComponent(code)}`;
    const run = await runNode(
      distEntry('main.js'),
      { STATE_DIR: dir, PORT: '0', HOST: '127.0.0.1', BCRYPT_COST: '4', SHUTDOWN_DELAY_MS: '0' },
      30_000,
      ['--import', preload],
    );
    expect(run.code).toBe(1);
    const line = run.stdout.split('\n').find((l) => l.includes(message));
    expect(line).toBeDefined();
    expect(JSON.parse(line as string)).toMatchObject({
      level: 'error',
      category: 'app',
      error: { message: expect.stringMatching(/^boom-/) },
    });
  });
});
