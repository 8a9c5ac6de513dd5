// The running service: boot (listen, connect, migrate, bootstrap) and graceful shutdown.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Express } from 'express';
import type { Config } from '../config/config.js';
import type { Logger } from '../domain/shared/ports.js';
import type { Database } from '../infrastructure/db/database.js';
import type { Migrator } from '../infrastructure/db/migrator.js';
import type { BootstrapResult } from '../domain/users/bootstrap-admin.js';
import type { Lifecycle } from './lifecycle.js';

export interface ServiceParts {
  config: Config;
  app: Express;
  database: Database;
  migrator: Migrator;
  lifecycle: Lifecycle;
  log: Logger;
  bootstrapAdmin(): Promise<BootstrapResult | undefined>;
  // Started after migrations and the bootstrap admin, before /startup turns 200 (Redis
  // subscriptions, flags watch, outbox relay).
  extraStarters?: (() => Promise<void>)[];
  // Closed before the database on shutdown (outbox relay, Redis connections, flags watch).
  extraClosers?: (() => Promise<void>)[];
}

export class Service {
  readonly server: http.Server;
  private shutdownPromise?: Promise<number>;

  constructor(
    private readonly parts: ServiceParts,
    private readonly connectDeadlineMs = 60_000,
  ) {
    const limits = parts.config.http;
    this.server = http.createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        // Node looks for expired header and request timers this often (30 s by default, which
        // would let a slow client hold its connection that much longer than the timeout).
        connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
      },
      parts.app,
    );
    this.server.maxConnections = limits.maxConnections;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  // Listens first so the probes answer during boot; /startup turns 200 when everything is done.
  async start(): Promise<BootstrapResult | undefined> {
    const { config, log, lifecycle } = this.parts;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(config.port, config.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    log.info('listening', { port: this.port, host: config.host, env: config.env });
    await this.connectWithRetry();
    if (config.db.migrateOnBoot) {
      const applied = await this.parts.migrator.up();
      log.info('migrations done', { applied });
    }
    const bootstrap = await this.parts.bootstrapAdmin();
    for (const start of this.parts.extraStarters ?? []) await start();
    lifecycle.started();
    log.info('started', { dialect: config.db.dialect });
    return bootstrap;
  }

  private async connectWithRetry(): Promise<void> {
    const deadline = Date.now() + this.connectDeadlineMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.parts.database.connect();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        this.parts.log.warn('database not reachable yet; retrying', {
          attempt,
          error: (err as Error).message,
        });
        await sleep(Math.min(5000, 250 * 2 ** attempt));
      }
    }
  }

  // Resolves to the exit code: 0 when every in-flight request finished within the deadline.
  // skipDelay: nobody routes traffic by our readiness (Ctrl-C in a terminal), so stop at once.
  shutdown(reason: string, skipDelay = false): Promise<number> {
    this.shutdownPromise ??= this.doShutdown(reason, skipDelay);
    return this.shutdownPromise;
  }

  private async doShutdown(reason: string, skipDelay: boolean): Promise<number> {
    const { config, log, lifecycle } = this.parts;
    const { timeoutMs } = config.shutdown;
    const delayMs = skipDelay ? 0 : config.shutdown.delayMs;
    lifecycle.drain();
    log.info('shutting down: readiness is now false', { reason, delayMs, timeoutMs });
    // Endpoints are removed from load balancers asynchronously; keep serving meanwhile.
    await sleep(delayMs);
    lifecycle.close();
    let exitCode = 0;
    if (this.server.listening) {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      // Keep-alive sockets that finish their request become idle later; close them as they do.
      const sweeper = setInterval(() => this.server.closeIdleConnections(), 50);
      this.server.closeIdleConnections();
      const finished = await Promise.race([closed.then(() => true), sleep(timeoutMs).then(() => false)]);
      clearInterval(sweeper);
      if (!finished) {
        log.error('requests still running at the shutdown deadline; closing their connections', {
          timeoutMs,
        });
        this.server.closeAllConnections();
        exitCode = 1;
      }
    }
    // Extra parts first: the outbox relay still needs the database while it stops.
    for (const close of [...(this.parts.extraClosers ?? []), () => this.parts.database.close()]) {
      try {
        await close();
      } catch (err) {
        log.error('error while closing a resource', { error: err });
        exitCode = 1;
      }
    }
    log.info('shutdown complete', { exitCode });
    return exitCode;
  }
}
