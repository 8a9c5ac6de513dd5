// Sessions and revoked access-token ids on Sequelize.
import { Op } from 'sequelize';
import type {
  NewSession,
  RevocationStore,
  Session,
  SessionRepository,
} from '../../../domain/sessions/session.js';
import type { Clock } from '../../../domain/shared/ports.js';
import type { Database } from '../database.js';
import type { SessionRow } from '../models.js';

function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    userId: row.userId,
    currentJti: row.currentJti,
    previousJti: row.previousJti ?? null,
    rotatedAt: row.rotatedAt ?? null,
    userAgent: row.userAgent,
    ip: row.ip,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt ?? null,
    revokedReason: row.revokedReason ?? null,
  };
}

export class SequelizeSessionRepository implements SessionRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async create(session: NewSession): Promise<Session> {
    const now = this.clock.now();
    return toSession(await this.db.models.Session.create({ ...session, lastUsedAt: now }));
  }

  async findById(id: string): Promise<Session | null> {
    const row = await this.db.models.Session.findByPk(id);
    return row ? toSession(row) : null;
  }

  findStored(id: string): Promise<Session | null> {
    return this.findById(id);
  }

  async rotate(
    id: string,
    expectedJti: string,
    next: { jti: string; rotatedAt: Date; expiresAt: Date },
  ): Promise<boolean> {
    const [affected] = await this.db.models.Session.update(
      {
        currentJti: next.jti,
        previousJti: expectedJti,
        rotatedAt: next.rotatedAt,
        expiresAt: next.expiresAt,
        lastUsedAt: this.clock.now(),
      },
      { where: { id, currentJti: expectedJti, revokedAt: null } },
    );
    return affected === 1;
  }

  async revokeAllOfUser(userId: string, reason: string, exceptId?: string): Promise<string[]> {
    const { Session } = this.db.models;
    const where = { userId, revokedAt: null, ...(exceptId ? { id: { [Op.ne]: exceptId } } : {}) };
    const rows = await Session.findAll({ where, attributes: ['id'] });
    const ids = rows.map((r) => r.id);
    if (ids.length > 0) {
      await Session.update(
        { revokedAt: this.clock.now(), revokedReason: reason },
        { where: { id: { [Op.in]: ids }, revokedAt: null } },
      );
    }
    return ids;
  }

  async revoke(id: string, reason: string): Promise<boolean> {
    const [affected] = await this.db.models.Session.update(
      { revokedAt: this.clock.now(), revokedReason: reason },
      { where: { id, revokedAt: null } },
    );
    return affected === 1;
  }

  async listActive(userId: string, now: Date): Promise<Session[]> {
    const rows = await this.db.models.Session.findAll({
      where: { userId, revokedAt: null, expiresAt: { [Op.gt]: now } },
      order: [['createdAt', 'DESC']],
    });
    return rows.map(toSession);
  }
}

export class SequelizeRevocationStore implements RevocationStore {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async revoke(jti: string, expiresAt: Date): Promise<void> {
    const { RevokedToken } = this.db.models;
    await RevokedToken.bulkCreate([{ jti, expiresAt }], { ignoreDuplicates: true });
    // Entries are only needed until the token would have expired anyway.
    await RevokedToken.destroy({ where: { expiresAt: { [Op.lt]: this.clock.now() } } });
  }

  async isRevoked(jti: string): Promise<boolean> {
    return (await this.db.models.RevokedToken.findByPk(jti, { attributes: ['jti'] })) !== null;
  }
}
