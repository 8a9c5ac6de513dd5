// The feature-flag seam: a static set now; the file watcher and Redis reload broadcast
// (docs/contract.md: FEATURE_FLAGS_FILE, <prefix>flags:reload) implement the same interface later.
export interface FeatureFlags {
  isEnabled(name: string): boolean;
  all(): Record<string, boolean>;
}

export class StaticFeatureFlags implements FeatureFlags {
  constructor(private readonly flags: Record<string, boolean> = {}) {}

  isEnabled(name: string): boolean {
    return this.flags[name] === true;
  }

  all(): Record<string, boolean> {
    return { ...this.flags };
  }
}
