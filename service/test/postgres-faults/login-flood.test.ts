// A measurement, not a timed assertion: the latency of a correct admin login while 200 parallel
// wrong logins (each from its own address, so the login limits let them all through to bcrypt)
// hit the real process at the default bcrypt cost, from a client that logged in before (its
// device token) and from one that did not. Printed as a [figures] line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { FAULT_ENV, startServer } from '../support/processes.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esp-flood-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ROUNDS = 20;
const FLOOD = 200;

function percentile(sorted: number[], q: number): number {
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0);
}

describe('a correct login during a login flood', () => {
  it(`measures the p99 over ${ROUNDS} floods of ${FLOOD} parallel wrong logins`, async () => {
    const server = await startServer({
      STATE_DIR: dir,
      ...FAULT_ENV,
      BCRYPT_COST: '12',
      TRUST_PROXY: 'true',
    });
    const base = `http://127.0.0.1:${server.port}`;
    const login = (email: string, password: string, address: string, deviceToken?: string) =>
      fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
        body: JSON.stringify({ email, password, deviceToken }),
      });
    // The admin's earlier login, before any flood: its device token marks the admin's client.
    const first = await login(FAULT_ENV.ADMIN_EMAIL, FAULT_ENV.ADMIN_PASSWORD, '192.0.2.1');
    const { deviceToken } = (await first.json()) as { deviceToken: string };
    // Time to a 200, following Retry-After as a well-behaved client does.
    async function correct(device?: string): Promise<{ ms: number; tries: number }> {
      const start = performance.now();
      for (let tries = 1; ; tries++) {
        const res = await login(FAULT_ENV.ADMIN_EMAIL, FAULT_ENV.ADMIN_PASSWORD, '192.0.2.1', device);
        await res.arrayBuffer();
        if (res.status === 200) return { ms: performance.now() - start, tries };
        expect(res.status).toBe(503);
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after')) * 1000));
      }
    }
    try {
      // The same login with no flood, on the same machine at the same time: what the flood adds.
      const quiet: number[] = [];
      for (let i = 0; i < 5; i++) quiet.push((await correct(deviceToken)).ms);
      quiet.sort((a, b) => a - b);
      const known: number[] = [];
      const fresh: number[] = [];
      const statuses: Record<number, number> = {};
      let retried = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const flood = Array.from({ length: FLOOD }, async (_, i) => {
          const res = await login(
            `nobody${i}@example.test`,
            'wrong-password',
            `10.${round}.${i >> 8}.${i & 255}`,
          );
          await res.arrayBuffer();
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        });
        // The correct login starts once the flood is on its way.
        const later = new Promise<void>((r) => setTimeout(r, 20));
        const [withDevice, without] = await Promise.all([
          later.then(() => correct(deviceToken)),
          later.then(() => correct()),
          ...flood,
        ]);
        known.push(withDevice.ms);
        fresh.push(without.ms);
        if (withDevice.tries > 1) retried += 1;
      }
      known.sort((a, b) => a - b);
      fresh.sort((a, b) => a - b);
      const figure = {
        rounds: ROUNDS,
        flood: FLOOD,
        bcryptCost: 12,
        noFloodP50Ms: percentile(quiet, 0.5),
        knownDevice: { p50Ms: percentile(known, 0.5), p99Ms: percentile(known, 0.99), retried },
        noDeviceToken: { p50Ms: percentile(fresh, 0.5), p99Ms: percentile(fresh, 0.99) },
        floodStatuses: statuses,
        loadAverage: os.loadavg().map((l) => Math.round(l * 10) / 10),
      };
      fs.writeSync(
        1,
        `[figures] correct login during a flood of ${FLOOD} parallel wrong ones: ${JSON.stringify(figure)}\n`,
      );
      expect(known).toHaveLength(ROUNDS);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 600_000);
});
