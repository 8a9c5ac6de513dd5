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

  // The listener is closed: responses ask clients to drop their keep-alive connections.
  close(): void {
    this.current = 'closing';
  }

  get isStarted(): boolean {
    return this.current !== 'starting';
  }

  get acceptsTraffic(): boolean {
    return this.current === 'serving';
  }
}
