import { DataTypes, type QueryInterface } from 'sequelize';

export async function up(qi: QueryInterface): Promise<void> {
  await qi.createTable('users', {
    id: { type: DataTypes.UUID, primaryKey: true, allowNull: false },
    email: { type: DataTypes.STRING(320), allowNull: false },
    name: { type: DataTypes.STRING(200), allowNull: false },
    password_hash: { type: DataTypes.STRING(100), allowNull: false },
    role: { type: DataTypes.STRING(16), allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false },
    version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
    created_at: { type: DataTypes.DATE, allowNull: false },
    updated_at: { type: DataTypes.DATE, allowNull: false },
  });
  // E-mail uniqueness ignores case; the address itself is stored as given.
  await qi.sequelize.query('CREATE UNIQUE INDEX users_email_lower_unique ON users (lower(email))');
  await qi.addIndex('users', ['role', 'status'], { name: 'users_role_status' });
  await qi.addIndex('users', ['created_at'], { name: 'users_created_at' });
}

export async function down(qi: QueryInterface): Promise<void> {
  await qi.dropTable('users');
}
