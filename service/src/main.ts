// Entry point: configuration, composition, boot, signals. `node dist/main.js`.
import 'reflect-metadata';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { startTracing } from './telemetry/tracing.js';

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    throw err;
  }
  // Tracing patches http, express, pg and ioredis as they load: start it before importing them.
  const tracing = await startTracing(config.service.name);
  const { compose } = await import('./composition-root.js');
  const { service, loggers } = compose(config);
  const log = loggers.get('app');

  process.on('uncaughtException', (err) => {
    log.error('uncaught exception; exiting', { error: err });
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
  });
  process.on('unhandledRejection', (reason) => {
    log.error('unhandled promise rejection; exiting', { error: reason });
    setImmediate(() => process.exit(1));
  });
  // SIGTERM (Kubernetes) drains for SHUTDOWN_DELAY_MS first; SIGINT (Ctrl-C) skips that wait.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void service
        .shutdown(signal, signal === 'SIGINT')
        // Spans still buffered are exported before the process exits.
        .then(async (code) => {
          await tracing?.shutdown().catch(() => undefined);
          process.exit(code);
        });
    });
  }

  const bootstrap = await service.start();
  if (bootstrap?.generatedPassword) {
    // Printed once, on the first start only, outside the JSON log so it is easy to read.
    process.stdout.write(
      `\n  bootstrap admin created\n    e-mail:   ${bootstrap.email}\n    password: ${bootstrap.generatedPassword}\n  (shown once; set ADMIN_EMAIL/ADMIN_PASSWORD to choose them)\n\n`,
    );
  }
  process.stdout.write(`  serving on http://localhost:${service.port}  (docs: /docs)\n`);
}

main().catch((err: unknown) => {
  fail(`start-up failed: ${err instanceof Error ? err.message : String(err)}`, 1);
});
