// The process's phase, read by the probes: starting -> serving -> draining -> closing.
export type Phase = 'starting' | 'serving' | 'draining' | 'closing';

export class Lifecycle {
  private current: Phase = 'starting';

  get phase(): Phase {
    return this.current;
  }

  // Boot finished (/startup answers 200 from now on).
  started(): void {
    if (this.current === 'starting') this.current = 'serving';
  }

  // SIGTERM: readiness turns false at once, requests are still served.
  drain(): void {
    if (this.current === 'starting' || this.current === 'serving') this.current = 'draining';
  }

  private readonly closingListeners = new Set<() => void>();

  // The listener is closed: responses ask clients to drop their keep-alive connections.
  close(): void {
    if (this.current === 'closing') return;
    this.current = 'closing';
    for (const listener of this.closingListeners) listener();
  }

  // Long-lived responses (event streams) end themselves here, with a reconnect hint, so the
  // shutdown does not wait for them until its deadline. Answers the unsubscribe.
  onClosing(listener: () => void): () => void {
    this.closingListeners.add(listener);
    return () => this.closingListeners.delete(listener);
  }

  get isStarted(): boolean {
    return this.current !== 'starting';
  }

  get acceptsTraffic(): boolean {
    return this.current === 'serving';
  }
}
