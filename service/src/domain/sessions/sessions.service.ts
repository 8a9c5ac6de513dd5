// A user's own sessions: list them and end any of them.
import { NotFoundError } from '../shared/errors.js';
import type { Clock } from '../shared/ports.js';
import type { Principal } from '../auth/auth.service.js';
import type { Session, SessionRepository } from './session.js';

export interface SessionView {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

export class SessionsService {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly clock: Clock,
  ) {}

  async list(principal: Principal): Promise<SessionView[]> {
    const sessions = await this.sessions.listActive(principal.id, this.clock.now());
    return sessions.map((s) => view(s, principal.sessionId));
  }

  async revoke(principal: Principal, sessionId: string): Promise<void> {
    const session = await this.sessions.findById(sessionId);
    // Someone else's session is reported as absent, so ids cannot be probed.
    if (!session || session.userId !== principal.id || session.revokedAt !== null) {
      throw new NotFoundError(`session ${sessionId} does not exist`);
    }
    await this.sessions.revoke(sessionId, 'revoked-by-user');
  }
}

function view(s: Session, currentId: string): SessionView {
  return {
    id: s.id,
    createdAt: s.createdAt,
    lastUsedAt: s.lastUsedAt,
    expiresAt: s.expiresAt,
    userAgent: s.userAgent,
    ip: s.ip,
    current: s.id === currentId,
  };
}
