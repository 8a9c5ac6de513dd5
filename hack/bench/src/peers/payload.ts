/** The small JSON body every HTTP peer answers, so the subjects differ only in the stack around it. */
export const HEALTH_BODY = { status: 'ok' } as const;
export const HEALTH_JSON = JSON.stringify(HEALTH_BODY);

export function listenPort(): number {
  const port = Number(process.env.PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must be set to the port to listen on');
  return port;
}

/** Peers exit on SIGTERM at once: the harness owns their lifetime. */
export function exitOnSignal(close: () => unknown): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void Promise.resolve(close()).finally(() => process.exit(0));
    });
  }
}
