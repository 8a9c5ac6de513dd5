// Transport rules: optional redirect to HTTPS behind a proxy, JSON-only request bodies, and
// Connection: close while the process shuts down.
import type { RequestHandler } from 'express';
import type { Lifecycle } from '../../runtime/lifecycle.js';
import { HttpProblem } from '../problem.js';

// Probes come from the kubelet over plain HTTP and must never be redirected.
const PROBE_PATHS = new Set(['/startup', '/live', '/ready', '/health', '/metrics']);

// req.secure reads X-Forwarded-Proto only from a trusted proxy (TRUST_PROXY, required with the
// redirect), and Location is built from the configured public origin, never from Host.
export function httpsRedirect(publicOrigin: string): RequestHandler {
  return (req, res, next) => {
    if (req.secure || PROBE_PATHS.has(req.path)) return next();
    res.redirect(308, `${publicOrigin}${req.originalUrl}`);
  };
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export function requireJsonBody(): RequestHandler {
  return (req, _res, next) => {
    const hasBody =
      req.get('content-length') !== undefined
        ? Number(req.get('content-length')) > 0
        : req.get('transfer-encoding') !== undefined;
    if (BODY_METHODS.has(req.method) && hasBody && !req.is('application/json')) {
      return next(
        new HttpProblem(
          'unsupported-media-type',
          `expected application/json, got ${req.get('content-type') ?? 'no content type'}`,
        ),
      );
    }
    next();
  };
}

export function connectionCloseWhenClosing(lifecycle: Lifecycle): RequestHandler {
  return (_req, res, next) => {
    if (lifecycle.phase === 'closing') res.setHeader('Connection', 'close');
    next();
  };
}
