// The Express application: middleware order, routes and error handling. Dependencies come in
// ready-made from the composition root; this module never touches the container.
import cookieParser from 'cookie-parser';
import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Config, SwitchableMiddleware } from '../config/config.js';
import type { AuthService } from '../domain/auth/auth.service.js';
import type { EventsService } from '../domain/events/events.service.js';
import type { SessionsService } from '../domain/sessions/sessions.service.js';
import type { LoggerProvider } from '../domain/shared/ports.js';
import type { UsersService } from '../domain/users/users.service.js';
import type { Metrics } from '../infrastructure/metrics/metrics.js';
import type { DistributedRuntime } from '../runtime/distributed.js';
import type { HealthRegistry } from '../runtime/health-registry.js';
import type { Lifecycle } from '../runtime/lifecycle.js';
import { apiDocs } from './api-docs.js';
import { authenticate } from './middleware/authenticate.js';
import { errorHandler, notFound } from './middleware/errors.js';
import { methodNotAllowed } from './middleware/method-not-allowed.js';
import { httpLimiters } from './middleware/rate-limit.js';
import { requestContextMiddleware } from './middleware/request-context.js';
import { observeRequests } from './middleware/request-observer.js';
import { recordMountPath } from './middleware/route-pattern.js';
import { connectionCloseWhenClosing, httpsRedirect, requireJsonBody } from './middleware/transport.js';
import { buildOpenApiDocument } from './openapi.js';
import { authRoutes } from './routes/auth.js';
import { distributedRoutes } from './routes/distributed.js';
import { eventRoutes } from './routes/events.js';
import { flagsRoutes } from './routes/flags.js';
import { healthRoutes } from './routes/health.js';
import { observabilityRoutes } from './routes/observability.js';
import { userRoutes } from './routes/users.js';
import { distributedBodies } from './schemas/distributed.js';
import { userBodies } from './schemas/users.js';

export interface AppDeps {
  config: Config;
  loggers: LoggerProvider;
  lifecycle: Lifecycle;
  health: HealthRegistry;
  auth: AuthService;
  users: UsersService;
  sessions: SessionsService;
  events: EventsService;
  version: string;
  // /metrics, /distributed/{metrics,config,info}.
  metrics: Metrics;
  gitSha?: string;
  // Rate limits, feature flags, /distributed/*.
  distributed: DistributedRuntime;
}

export function createApp(deps: AppDeps): Express {
  const { config, loggers, lifecycle } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.http.trustProxy);
  app.set('query parser', 'simple');

  const enabled = (m: SwitchableMiddleware) => !config.http.disabledMiddleware.has(m);
  if (config.http.disabledMiddleware.size > 0) {
    loggers
      .get('http')
      .warn('middleware switched off by HTTP_DISABLED_MIDDLEWARE (for measurements, never in production)', {
        disabled: [...config.http.disabledMiddleware],
      });
  }
  if (enabled('request-id')) app.use(requestContextMiddleware());
  // METRICS_ENABLED=false switches the HTTP histogram off with the endpoints.
  const observer = observeRequests({
    metrics: config.metrics.enabled && enabled('metrics') ? deps.metrics : undefined,
    accessLog: enabled('access-log') ? loggers.get('http') : undefined,
  });
  if (observer) app.use(observer);
  app.use(connectionCloseWhenClosing(lifecycle));
  // HSTS is always sent (helmet's default); the redirect is opt-in for deployments behind TLS.
  if (enabled('helmet')) app.use(helmet());
  if (config.http.httpsRedirect && config.http.publicOrigin) app.use(httpsRedirect(config.http.publicOrigin));
  app.use(
    cors({
      origin: config.http.corsOrigins.length > 0 ? config.http.corsOrigins : false,
      credentials: true,
      exposedHeaders: ['ETag', 'Location', 'X-Request-Id', 'Retry-After'],
    }),
  );
  app.use(healthRoutes({ lifecycle, health: deps.health, service: config.service, auth: deps.auth }));
  app.use(
    observabilityRoutes({
      config,
      metrics: deps.metrics,
      version: deps.version,
      gitSha: deps.gitSha,
      auth: deps.auth,
    }),
  );
  // Probes above are never rate limited; everything below is, per client address.
  const { distributed } = deps;
  const limiters = httpLimiters(
    config.distributed.rateLimit,
    distributed.rateLimiters,
    distributed.flags,
    loggers.get('http'),
  );
  if (limiters.perClient && enabled('rate-limit')) app.use(limiters.perClient);

  // The config-dependent schemas are built once: the routes validate with them, the document shows them.
  const userSchemas = userBodies(config.rules);
  const distributedSchemas = distributedBodies(config.distributed);
  const openapi = buildOpenApiDocument({
    title: config.service.name,
    version: deps.version,
    config,
    users: userSchemas,
    distributed: distributedSchemas,
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use(apiDocs(config.service.name));

  app.use(requireJsonBody());
  app.use(express.json({ limit: config.http.bodyLimit, strict: true }));
  app.use(cookieParser());
  app.use(
    '/api/v1/auth',
    recordMountPath(),
    authRoutes({
      auth: deps.auth,
      sessions: deps.sessions,
      users: deps.users,
      cookies: { enabled: config.http.authCookie, secure: config.http.cookieSecure },
      deviceTtlSeconds: config.loginLimits.deviceTtlSeconds,
    }),
  );
  app.use(
    '/api/v1/users',
    recordMountPath(),
    authenticate(deps.auth),
    ...(limiters.perUser && enabled('rate-limit') ? [limiters.perUser] : []),
    userRoutes(deps.users, userSchemas),
  );
  app.use(
    '/api/v1/events',
    recordMountPath(),
    authenticate(deps.auth),
    eventRoutes(deps.events, lifecycle, config.eventStreams, loggers.get('events')),
  );
  app.use('/api/v1/flags', recordMountPath(), flagsRoutes(distributed.flags, config.featureFlagsFile));
  app.use(
    '/distributed',
    recordMountPath(),
    distributedRoutes(distributed, deps.auth, loggers.get('distributed'), distributedSchemas),
  );

  app.use(methodNotAllowed(app));
  app.use(notFound());
  app.use(errorHandler(loggers.get('http')));
  return app;
}
