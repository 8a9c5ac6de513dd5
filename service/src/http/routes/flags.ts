// /api/v1/flags: the live feature flags of this replica, the revision (hash) of the content they came
// from, and which path brought it: the mounted file, or the ConfigMap watch while that is live.
import { Router } from 'express';
import type { FileFeatureFlags } from '../../infrastructure/flags/feature-flags.js';

export function flagsRoutes(flags: FileFeatureFlags, source: string | undefined): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({
      flags: flags.all(),
      revision: flags.revision,
      loadedAt: flags.loadedAt?.toISOString() ?? null,
      source: source ?? null,
      appliedFrom: flags.source,
      watch: flags.feed
        ? { from: flags.feed.description, live: flags.feed.live, restarts: flags.feed.restarts }
        : null,
    });
  });
  return router;
}
