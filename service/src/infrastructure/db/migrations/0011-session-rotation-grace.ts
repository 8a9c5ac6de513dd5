// The refresh token a rotation replaced, and when, for the grace window of racing refreshes.
import { DataTypes, type QueryInterface } from 'sequelize';

export async function up(qi: QueryInterface): Promise<void> {
  await qi.addColumn('sessions', 'previous_jti', { type: DataTypes.STRING(64), allowNull: true });
  await qi.addColumn('sessions', 'rotated_at', { type: DataTypes.DATE, allowNull: true });
}

export async function down(qi: QueryInterface): Promise<void> {
  await qi.removeColumn('sessions', 'rotated_at');
  await qi.removeColumn('sessions', 'previous_jti');
}
