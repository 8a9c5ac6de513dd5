// Our service as bench subjects. Filled in against the service's real entry point and config.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MeasureOptions } from './measure.js';
import type { Row } from './report.js';
import { REPO_ROOT, type Subject } from './subjects.js';

const SERVICE_MAIN = join(REPO_ROOT, 'service/dist/main.js');

export interface OurPrimitives {
  lockCycle(): Promise<unknown>;
  rateLimitConsume(): Promise<unknown>;
  cacheGet(): Promise<unknown>;
  close(): Promise<void>;
}

export async function serviceSubjects(
  _options: MeasureOptions,
): Promise<{ subjects: Subject[]; skipped: Row[] }> {
  if (!existsSync(SERVICE_MAIN)) {
    const reason = 'service/dist/main.js is not built';
    const skipped: Row[] = [
      {
        id: 'ours-live',
        label: 'ours: /live, full stack',
        group: 'http',
        ceiling: false,
        rps: NaN,
        p50Ms: NaN,
        p99Ms: NaN,
        errors: 0,
        skipped: reason,
      },
    ];
    return { subjects: [], skipped };
  }
  return { subjects: [], skipped: [] };
}

export async function loadOurPrimitives(_redisUrl: string): Promise<OurPrimitives | null> {
  return null;
}
