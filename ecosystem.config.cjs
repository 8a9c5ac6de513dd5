// PM2 process file for running the service outside containers, on a host with Node 24:
//   make build && pm2 start ecosystem.config.cjs --only express-sqlize-migrate  (once per release)
//   pm2 start ecosystem.config.cjs --only express-sqlize       (WEB_CONCURRENCY=N for N processes)
// Settings come from the environment (or an env file loaded by the shell), as in the container.
// Start the PM2 daemon with PM2_KILL_SIGNAL=SIGTERM: on SIGTERM the service drains for
// SHUTDOWN_DELAY_MS as in a container; on PM2's default SIGINT it stops without that delay.
/* global module, process, __dirname */

// The service drains on SIGINT/SIGTERM: /ready turns 503, the listener closes after
// SHUTDOWN_DELAY_MS, in-flight requests get SHUTDOWN_TIMEOUT_MS. PM2 must wait longer than both
// before it sends SIGKILL.
const shutdownDelayMs = Number(process.env.SHUTDOWN_DELAY_MS ?? 5000);
const shutdownTimeoutMs = Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 20000);

module.exports = {
  apps: [
    {
      name: 'express-sqlize',
      cwd: `${__dirname}/service`,
      script: 'dist/main.js',
      node_args: '--enable-source-maps',
      // Fork mode, one port per process (PORT, PORT+1, ... via increment_var) behind a reverse
      // proxy: the service is written for one process per container, and PM2's cluster mode
      // failed here with EADDRINUSE on the second worker.
      instances: Number(process.env.WEB_CONCURRENCY ?? 1),
      exec_mode: 'fork',
      increment_var: 'PORT',
      kill_timeout: shutdownDelayMs + shutdownTimeoutMs + 5000,
      listen_timeout: 30000,
      max_memory_restart: process.env.MAX_MEMORY ?? '384M',
      exp_backoff_restart_delay: 200,
      time: true,
      merge_logs: true,
      env: {
        NODE_ENV: 'production',
        PORT: process.env.PORT ?? '3000',
        SHUTDOWN_DELAY_MS: String(shutdownDelayMs),
        SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
      },
    },
    {
      // Migrations hold a lock, so a run racing another instance's is safe; it exits when done.
      name: 'express-sqlize-migrate',
      cwd: `${__dirname}/service`,
      script: 'dist/cli/migrate.js',
      node_args: '--enable-source-maps',
      autorestart: false,
      time: true,
      env: { NODE_ENV: 'production' },
    },
  ],
};
