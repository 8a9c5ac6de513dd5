import { DataTypes, type QueryInterface } from 'sequelize';

export async function up(qi: QueryInterface): Promise<void> {
  await qi.createTable('revoked_tokens', {
    jti: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
    expires_at: { type: DataTypes.DATE, allowNull: false },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('revoked_tokens', ['expires_at'], { name: 'revoked_tokens_expires_at' });
}

export async function down(qi: QueryInterface): Promise<void> {
  await qi.dropTable('revoked_tokens');
}
