// Feature flags: a ConfigMap-style symlink swap and a Redis broadcast both take effect at once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { RedisBroadcaster } from '../../src/infrastructure/redis/broadcast.js';
import { createRedisConnection, settingsFromUrl } from '../../src/infrastructure/redis/connection.js';
import { FileFeatureFlags, parseFlags } from '../../src/infrastructure/flags/feature-flags.js';
import { REDIS_URL, figure, testPrefix, waitFor } from './support.js';

const clients: Redis[] = [];
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const s of stops) await s();
  clients.forEach((c) => c.disconnect());
});

// Lays out a directory the way the kubelet does: ..<timestamp>/flags.json, ..data -> it, flags.json -> ..data/flags.json.
function configMapDir(): { dir: string; file: string; publish(flags: Record<string, boolean>): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flags-'));
  let n = 0;
  const publish = (flags: Record<string, boolean>) => {
    const version = `..2026_${n++}`;
    fs.mkdirSync(path.join(dir, version));
    fs.writeFileSync(path.join(dir, version, 'flags.json'), JSON.stringify(flags));
    fs.symlinkSync(version, path.join(dir, '..data_tmp'));
    fs.renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  };
  publish({});
  fs.symlinkSync('..data/flags.json', path.join(dir, 'flags.json'));
  return { dir, file: path.join(dir, 'flags.json'), publish };
}

describe('FileFeatureFlags', () => {
  it('follows a ConfigMap symlink swap without a restart', async () => {
    const cm = configMapDir();
    cm.publish({ cache: true, rateLimit: false });
    const flags = new FileFeatureFlags({ file: cm.file, defaults: { cache: false, rateLimit: true } });
    await flags.start();
    stops.push(() => flags.stop());
    expect(flags.all()).toEqual({ cache: true, rateLimit: false });
    const before = flags.revision;

    const t0 = performance.now();
    cm.publish({ cache: false, rateLimit: false });
    const ms = await waitFor('file change to apply', 5000, () => !flags.isEnabled('cache'));
    figure('flags file swap', { appliedAfterMs: ms, watchToApplyMs: Math.round(performance.now() - t0) });
    expect(flags.revision).not.toBe(before);

    // A broken file keeps the last good flags.
    cm.publish({ 'Bad Name': true } as Record<string, boolean>);
    await waitFor('bad file noticed', 5000, () => flags.lastError !== undefined);
    expect(flags.all()).toEqual({ cache: false, rateLimit: false });
  });

  it('re-reads the file at once on the Redis broadcast', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flags-'));
    const file = path.join(dir, 'flags.json');
    fs.writeFileSync(file, JSON.stringify({ beta: false }));
    const prefix = testPrefix('flags');
    const s = settingsFromUrl(REDIS_URL);
    const main = createRedisConnection(s, 'flags');
    const sub = createRedisConnection(s, 'flags-sub');
    clients.push(main, sub);
    const broadcaster = new RedisBroadcaster(main, sub);
    // No watch and no poll: only the broadcast can make the change visible.
    const flags = new FileFeatureFlags({ file, watch: false });
    await flags.start(broadcaster, `${prefix}flags:reload`);
    stops.push(() => flags.stop());
    fs.writeFileSync(file, JSON.stringify({ beta: true }));
    expect(flags.isEnabled('beta')).toBe(false);
    const t0 = performance.now();
    await main.publish(`${prefix}flags:reload`, 'now');
    await waitFor('broadcast reload', 1000, () => flags.isEnabled('beta'));
    figure('flags broadcast reload', { appliedAfterMs: Number((performance.now() - t0).toFixed(2)) });
  });

  it('validates names and values per docs/contract.md', () => {
    expect(parseFlags('{"rateLimit":true,"cache.users":false}')).toEqual({
      rateLimit: true,
      'cache.users': false,
    });
    expect(() => parseFlags('{"9lives":true}')).toThrow('not a valid flag name');
    expect(() => parseFlags('{"a":"yes"}')).toThrow('must be true or false');
    expect(() => parseFlags('[]')).toThrow('JSON object');
  });
});
