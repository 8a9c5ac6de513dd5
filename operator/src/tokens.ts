// Injection tokens (emitDecoratorMetadata is off, so every constructor parameter names its token).
export const TOKENS = {
  Config: Symbol('Config'),
  KubeClient: Symbol('KubeClient'),
  Metrics: Symbol('Metrics'),
  Logger: Symbol('Logger'),
  Caches: Symbol('Caches'),
  EventRecorder: Symbol('EventRecorder'),
  ReconcilerOptions: Symbol('ReconcilerOptions'),
  Reconciler: Symbol('Reconciler'),
} as const;
