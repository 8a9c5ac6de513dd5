// Composition root: configuration, the container, the probe and metrics servers, signal handling.
import 'reflect-metadata';
import { container } from 'tsyringe';
import { KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from './config.js';
import { makeCaches } from './controllers/expressapp/controller.js';
import { ExpressAppReconciler } from './controllers/expressapp/reconciler.js';
import { Manager } from './manager.js';
import { EventRecorder } from './runtime/events.js';
import { startMetricsServer, startProbeServer } from './runtime/health.js';
import { KubeClient } from './runtime/kube.js';
import { Logger } from './runtime/log.js';
import { OperatorMetrics } from './runtime/metrics.js';
import { MetricsAuthenticator, kubeReviewer } from './runtime/metrics-auth.js';
import { loadServingCert, selfSignedCert, type ServingCert } from './runtime/tls.js';
import { TOKENS } from './tokens.js';

async function main(): Promise<void> {
  let cfg;
  try {
    cfg = loadConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = new Logger(cfg.LOG_LEVEL, { logger: 'expressapp-operator' });
  let cert: ServingCert | undefined;
  if (cfg.METRICS_SECURE) {
    try {
      cert = cfg.METRICS_CERT_DIR ? loadServingCert(cfg.METRICS_CERT_DIR) : selfSignedCert();
    } catch (err) {
      process.stderr.write(`invalid operator configuration: ${(err as Error).message}\n`);
      process.exit(2);
    }
  }
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const metrics = new OperatorMetrics();
  const client = new KubeClient(kc, {
    write: (verb, path) => metrics.recordWrite(verb, path),
    response: (method, code, host) => metrics.recordResponse(method, code, host),
  });
  // Reviews are not writes of the operator: a client of their own, counted only as REST requests.
  const authenticator = new MetricsAuthenticator(
    kubeReviewer(
      new KubeClient(kc, { response: (method, code, host) => metrics.recordResponse(method, code, host) }),
    ),
    cfg.METRICS_AUTH_CACHE_SECONDS,
  );
  const caches = makeCaches(client, {
    namespaces: cfg.WATCH_NAMESPACES,
    quietMs: cfg.WATCH_QUIET_SECONDS * 1000,
    onRestart: (resource, reason, err) => {
      metrics.watchRestarts.inc({ resource, reason });
      if (reason !== 'closed') log.info('watch restarted', { resource, reason, err });
    },
    onError: (resource, err) => log.warn('watch error', { resource, err }),
  });

  container.register(TOKENS.Config, { useValue: cfg });
  container.register(TOKENS.Logger, { useValue: log });
  container.register(TOKENS.Metrics, { useValue: metrics });
  container.register(TOKENS.KubeClient, { useValue: client });
  container.register(TOKENS.Caches, { useValue: caches });
  container.register(TOKENS.EventRecorder, { useValue: new EventRecorder(client, log) });
  container.register(TOKENS.ReconcilerOptions, {
    useValue: { finalizerTimeoutMs: cfg.FINALIZER_TIMEOUT_SECONDS * 1000 },
  });
  container.register(TOKENS.Reconciler, { useClass: ExpressAppReconciler });
  const manager = container.resolve(Manager);

  const probes = await startProbeServer(cfg.HEALTH_PORT, cfg.BIND_ADDRESS, {
    healthz: () => true,
    readyz: () => manager.ready(),
  });
  const certDir = cfg.METRICS_CERT_DIR;
  const metricsServer = await startMetricsServer(
    cfg.METRICS_PORT,
    cfg.BIND_ADDRESS,
    metrics.registry,
    cert && {
      cert,
      check: (req) => authenticator.check(req),
      reload: certDir
        ? () => {
            try {
              return loadServingCert(certDir);
            } catch (err) {
              // Mid-rotation the two files can disagree for a moment: keep serving the last good pair.
              log.warn('metrics certificate not reloaded', { err });
              return undefined;
            }
          }
        : undefined,
    },
  );
  log.info('started', {
    identity: cfg.identity,
    metricsPort: cfg.METRICS_PORT,
    metrics: !cert
      ? 'http'
      : `https, TokenReview and SubjectAccessReview, ${certDir ? `certificate from ${certDir}` : 'self-signed certificate'}`,
    healthPort: cfg.HEALTH_PORT,
    namespaces: cfg.WATCH_NAMESPACES.length > 0 ? cfg.WATCH_NAMESPACES : '(all)',
  });

  const shutdown = async (signal: string, code: number) => {
    log.info('stopping', { signal });
    await manager.stop();
    probes.close();
    metricsServer.close();
    process.exit(code);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.once('SIGINT', () => void shutdown('SIGINT', 0));

  const outcome = await manager.run();
  if (outcome === 'lost') process.exit(1);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `expressapp-operator failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
