// The route pattern of a request ("/api/v1/users/:id"), never its raw path: metrics, access log and
// trace spans label requests with it, so unknown URLs all share "unmatched" and cardinality stays bounded.
import type { Request, RequestHandler, Response } from 'express';

// Express resets req.baseUrl when a request leaves a router, so routers record their mount path.
export function recordMountPath(): RequestHandler {
  return (req, res, next) => {
    res.locals.mountPath = req.baseUrl;
    next();
  };
}

export function routePattern(req: Request, res: Response): string {
  const route = req.route as { path?: string } | undefined;
  if (route?.path === undefined) return 'unmatched';
  const base = (res.locals.mountPath as string | undefined) ?? '';
  return `${base}${route.path === '/' && base ? '' : route.path}`;
}
