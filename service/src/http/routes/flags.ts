// /api/v1/flags: the live feature flags of this replica, with the revision of the file they came from.
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
    });
  });
  return router;
}
