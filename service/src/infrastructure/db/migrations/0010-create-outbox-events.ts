import { DataTypes, type QueryInterface } from 'sequelize';

// The transactional outbox: domain events written in the same transaction as the change
// they describe, moved to the Redis stream by the relay afterwards.
export async function up(qi: QueryInterface): Promise<void> {
  await qi.createTable('outbox_events', {
    seq: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true, allowNull: false },
    event_id: { type: DataTypes.UUID, allowNull: false, unique: true },
    stream: { type: DataTypes.STRING(100), allowNull: false },
    type: { type: DataTypes.STRING(100), allowNull: false },
    payload: { type: DataTypes.TEXT, allowNull: false },
    created_at: { type: DataTypes.DATE, allowNull: false },
    published_at: { type: DataTypes.DATE, allowNull: true },
    attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    last_error: { type: DataTypes.STRING(500), allowNull: true },
  });
  await qi.addIndex('outbox_events', ['published_at', 'seq'], { name: 'outbox_events_unpublished' });
}

export async function down(qi: QueryInterface): Promise<void> {
  await qi.dropTable('outbox_events');
}
