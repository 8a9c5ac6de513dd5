// Request id (accepted from X-Request-Id when sane, generated otherwise, always echoed) and the
// async context that puts it on every log line of the request.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { requestContext } from '../../infrastructure/logging/request-context.js';

const SANE_ID = /^[\w.:-]{1,128}$/;

export function requestContextMiddleware(): RequestHandler {
  return (req, res, next) => {
    const offered = req.get('x-request-id');
    const requestId = offered && SANE_ID.test(offered) ? offered : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    requestContext.run({ requestId }, () => next());
  };
}
