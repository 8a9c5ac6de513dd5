// 405 for a path the app serves asked with a method it does not serve, with Allow listing the ones
// it does (RFC 9110, section 15.5.6); a path the app does not serve at all stays a 404. The routes
// are read from the app's own router, so this never disagrees with what is mounted.
import type { Express, RequestHandler } from 'express';
import { HttpProblem } from '../problem.js';

export interface MountedRoute {
  // Upper case, HEAD included for every GET (Express answers it with the GET route), '*' for .all().
  methods: string[];
  // An Express pattern: /api/v1/users/:id
  path: string;
}

// Router 2.3's listRoutes(), which @types/express does not declare (Express 5's app.router is one).
interface ListedRoute {
  path: string | RegExp;
  methods?: string[];
  router?: Listable;
}
interface Listable {
  listRoutes?(): ListedRoute[];
}

function walk(router: Listable, prefix: string, out: MountedRoute[]): void {
  for (const { path, methods, router: mounted } of router.listRoutes?.() ?? []) {
    // A pattern cannot be documented or matched here; this app registers none.
    if (typeof path !== 'string') throw new Error(`a route registered with a RegExp: ${String(path)}`);
    const at = path === '/' ? '' : path;
    if (mounted) walk(mounted, `${prefix}${at}`, out);
    else if (methods) out.push({ methods, path: `${prefix}${at}` || '/' });
  }
}

// Every path the app routes, mounted routers included, with its methods; middleware are not routes.
export function mountedRoutes(app: Express): MountedRoute[] {
  const out: MountedRoute[] = [];
  walk(app.router as Listable, '', out);
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function methodNotAllowed(app: Express): RequestHandler {
  let table: { pattern: RegExp; allow: string }[] | undefined;
  const build = () => {
    const byPath = new Map<string, Set<string>>();
    for (const { methods, path } of mountedRoutes(app)) {
      byPath.set(path, new Set([...(byPath.get(path) ?? []), ...methods]));
    }
    return (
      [...byPath]
        // A route taking every method never answers 405.
        .filter(([, methods]) => !methods.has('*'))
        .map(([path, methods]) => ({
          // As Express matches: case-insensitive, a trailing slash allowed, a parameter one segment.
          pattern: new RegExp(
            `^${path
              .split(/(:\w+)/)
              .map((part) => (part.startsWith(':') ? '[^/]+' : escapeRegExp(part)))
              .join('')}/?$`,
            'i',
          ),
          // Express answers OPTIONS itself for every routed path.
          allow: [...methods, 'OPTIONS'].join(', '),
        }))
    );
  };
  return (req, res, next) => {
    // Built at the first request, once every route is mounted.
    table ??= build();
    const hit = table.find((r) => r.pattern.test(req.path));
    if (!hit || req.method === 'OPTIONS') return next();
    res.setHeader('Allow', hit.allow);
    next(new HttpProblem('method-not-allowed', `${req.method} is not served here; Allow: ${hit.allow}`));
  };
}
