// Sequelize models, defined per Sequelize instance (so tests can hold several databases at once).
import {
  type CreationOptional,
  DataTypes,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  type ModelStatic,
  type Sequelize,
} from 'sequelize';

export interface UserRow extends Model<InferAttributes<UserRow>, InferCreationAttributes<UserRow>> {
  id: CreationOptional<string>;
  email: string;
  name: string;
  passwordHash: string;
  role: string;
  status: string;
  version: CreationOptional<number>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export interface SessionRow extends Model<InferAttributes<SessionRow>, InferCreationAttributes<SessionRow>> {
  id: string;
  userId: string;
  currentJti: string;
  previousJti: CreationOptional<string | null>;
  rotatedAt: CreationOptional<Date | null>;
  userAgent: string | null;
  ip: string | null;
  createdAt: CreationOptional<Date>;
  lastUsedAt: CreationOptional<Date>;
  expiresAt: Date;
  revokedAt: CreationOptional<Date | null>;
  revokedReason: CreationOptional<string | null>;
}

export interface RevokedTokenRow extends Model<
  InferAttributes<RevokedTokenRow>,
  InferCreationAttributes<RevokedTokenRow>
> {
  jti: string;
  expiresAt: Date;
}

// The transactional outbox (outbox.ts): events written in the transaction of their change.
export interface OutboxRow extends Model<InferAttributes<OutboxRow>, InferCreationAttributes<OutboxRow>> {
  seq: CreationOptional<number>;
  eventId: string;
  stream: string;
  type: string;
  payload: string;
  createdAt: CreationOptional<Date>;
  publishedAt: CreationOptional<Date | null>;
  attempts: CreationOptional<number>;
  lastError: CreationOptional<string | null>;
}

// Defined once per Sequelize instance: the relay and the writer may be built on a bare instance.
export function outboxModel(sequelize: Sequelize): ModelStatic<OutboxRow> {
  const existing = sequelize.models.OutboxEvent as ModelStatic<OutboxRow> | undefined;
  if (existing) return existing;
  return sequelize.define<OutboxRow>(
    'OutboxEvent',
    {
      seq: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
      eventId: { type: DataTypes.UUID, allowNull: false, unique: true },
      stream: { type: DataTypes.STRING(100), allowNull: false },
      type: { type: DataTypes.STRING(100), allowNull: false },
      payload: { type: DataTypes.TEXT, allowNull: false },
      createdAt: DataTypes.DATE,
      publishedAt: { type: DataTypes.DATE, allowNull: true },
      attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      lastError: { type: DataTypes.STRING(500), allowNull: true },
    },
    { tableName: 'outbox_events', updatedAt: false, underscored: true },
  );
}

export interface Models {
  User: ModelStatic<UserRow>;
  Session: ModelStatic<SessionRow>;
  RevokedToken: ModelStatic<RevokedTokenRow>;
  OutboxEvent: ModelStatic<OutboxRow>;
}

export function defineModels(sequelize: Sequelize): Models {
  const User = sequelize.define<UserRow>(
    'User',
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4 },
      email: { type: DataTypes.STRING(320), allowNull: false },
      name: { type: DataTypes.STRING(200), allowNull: false },
      passwordHash: { type: DataTypes.STRING(100), allowNull: false },
      role: { type: DataTypes.STRING(16), allowNull: false },
      status: { type: DataTypes.STRING(16), allowNull: false },
      version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { tableName: 'users' },
  );
  const Session = sequelize.define<SessionRow>(
    'Session',
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      userId: { type: DataTypes.UUID, allowNull: false },
      currentJti: { type: DataTypes.STRING(64), allowNull: false },
      previousJti: { type: DataTypes.STRING(64), allowNull: true },
      rotatedAt: { type: DataTypes.DATE, allowNull: true },
      userAgent: { type: DataTypes.STRING(512), allowNull: true },
      ip: { type: DataTypes.STRING(64), allowNull: true },
      createdAt: DataTypes.DATE,
      lastUsedAt: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      expiresAt: { type: DataTypes.DATE, allowNull: false },
      revokedAt: { type: DataTypes.DATE, allowNull: true },
      revokedReason: { type: DataTypes.STRING(64), allowNull: true },
    },
    { tableName: 'sessions', updatedAt: false },
  );
  const RevokedToken = sequelize.define<RevokedTokenRow>(
    'RevokedToken',
    {
      jti: { type: DataTypes.STRING(64), primaryKey: true },
      expiresAt: { type: DataTypes.DATE, allowNull: false },
    },
    { tableName: 'revoked_tokens', updatedAt: false },
  );
  return { User, Session, RevokedToken, OutboxEvent: outboxModel(sequelize) };
}
