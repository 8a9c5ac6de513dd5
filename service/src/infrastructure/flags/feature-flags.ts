// Feature flags from a JSON file (FEATURE_FLAGS_FILE; the chart mounts the operator's ConfigMap
// there), re-read when it changes and at once on a Redis broadcast (`<prefix>flags:reload`).
//
// Kubernetes updates a ConfigMap volume by writing a new timestamped directory and swapping the
// `..data` symlink; the file's own path never sees a write. So the watch is on the directory (any
// event there triggers a re-read and a content comparison), with a slow poll as a safety net for
// filesystems where watches do not fire. A file that does not parse keeps the last good flags.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FeatureFlags, Logger } from '../../domain/shared/ports.js';
import type { Broadcaster } from '../redis/broadcast.js';
import { silentLogger } from '../logging/silent-logger.js';

// Flags that switch the service's own features; a flags file can turn them off at run time. `cache`
// is the users resource cache; `authCache` the per-request session/revoked-token/account lookups.
export const FLAG_DEFAULTS = { rateLimit: true, cache: true, authCache: true } as const;

export const FLAG_NAME = /^[a-z][a-zA-Z0-9_.-]{0,62}$/;

export interface FileFlagsOptions {
  file?: string;
  // Flags that hold when the file does not mention them (or there is no file).
  defaults?: Record<string, boolean>;
  watch?: boolean;
  pollMs?: number;
  log?: Logger;
}

export function parseFlags(text: string): Record<string, boolean> {
  const data: unknown = JSON.parse(text);
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new Error('flags file must hold a JSON object');
  const flags: Record<string, boolean> = {};
  const problems: string[] = [];
  for (const [name, value] of Object.entries(data)) {
    if (!FLAG_NAME.test(name)) problems.push(`${name}: not a valid flag name`);
    else if (typeof value !== 'boolean') problems.push(`${name}: must be true or false`);
    else flags[name] = value;
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  return flags;
}

export class FileFeatureFlags implements FeatureFlags {
  private flags: Record<string, boolean> = {};
  private digest = '';
  private watcher?: fs.FSWatcher;
  private poll?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  private unsubscribe?: () => Promise<void>;
  private readonly listeners = new Set<(flags: Record<string, boolean>) => void>();
  private readonly log: Logger;
  loadedAt?: Date;
  lastError?: string;

  constructor(private readonly o: FileFlagsOptions = {}) {
    this.log = o.log ?? silentLogger;
    this.flags = { ...o.defaults };
  }

  isEnabled(name: string): boolean {
    return this.flags[name] === true;
  }

  all(): Record<string, boolean> {
    return { ...this.flags };
  }

  // A short hash of the file's content: which revision of the flags this replica runs.
  get revision(): string {
    return this.digest;
  }

  onChange(listener: (flags: Record<string, boolean>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // Reads the file now; true when the flags changed.
  reload(): boolean {
    const file = this.o.file;
    if (!file) return false;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      // Missing file (optional ConfigMap not created yet): the defaults hold.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.fail(file, err as Error);
      return this.apply({}, '');
    }
    const digest = createHash('sha256').update(text).digest('hex').slice(0, 12);
    if (digest === this.digest) return false;
    try {
      return this.apply(parseFlags(text), digest);
    } catch (err) {
      this.fail(file, err as Error);
      return false;
    }
  }

  private fail(file: string, err: Error): void {
    this.lastError = err.message;
    this.log.warn('feature flags file not usable; keeping the last good flags', { file, error: err.message });
  }

  private apply(fileFlags: Record<string, boolean>, digest: string): boolean {
    const before = JSON.stringify(this.flags);
    this.digest = digest;
    this.flags = { ...this.o.defaults, ...fileFlags };
    this.loadedAt = new Date();
    this.lastError = undefined;
    if (JSON.stringify(this.flags) === before) return false;
    this.log.info('feature flags loaded', { revision: digest, flags: this.flags });
    for (const l of this.listeners) l(this.all());
    return true;
  }

  async start(broadcaster?: Broadcaster, channel?: string): Promise<void> {
    this.reload();
    const file = this.o.file;
    if (file && this.o.watch !== false) {
      const dir = path.dirname(file);
      try {
        this.watcher = fs.watch(dir, { persistent: false }, () => this.scheduleReload());
        this.watcher.on('error', (err) =>
          this.log.warn('flags directory watch failed; polling only', { error: err.message }),
        );
      } catch (err) {
        this.log.warn('cannot watch the flags directory; polling only', {
          dir,
          error: (err as Error).message,
        });
      }
      this.poll = setInterval(() => this.reload(), this.o.pollMs ?? 10_000);
      this.poll.unref();
    }
    if (broadcaster && channel) {
      this.unsubscribe = await broadcaster.subscribe(channel, () => this.reload());
    }
  }

  private scheduleReload(): void {
    // A symlink swap fires several events; read once they settle.
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.reload(), 50);
    this.debounce.unref();
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    clearInterval(this.poll);
    clearTimeout(this.debounce);
    await this.unsubscribe?.();
  }
}
