// JSON-lines logger on stdout (one object per line, as log collectors expect from a pod).
export type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export class Logger {
  constructor(
    private readonly level: Level = 'info',
    private readonly fields: Record<string, unknown> = {},
  ) {}
  child(fields: Record<string, unknown>): Logger {
    return new Logger(this.level, { ...this.fields, ...fields });
  }
  debug(msg: string, f?: Record<string, unknown>): void {
    this.write('debug', msg, f);
  }
  info(msg: string, f?: Record<string, unknown>): void {
    this.write('info', msg, f);
  }
  warn(msg: string, f?: Record<string, unknown>): void {
    this.write('warn', msg, f);
  }
  error(msg: string, f?: Record<string, unknown>): void {
    this.write('error', msg, f);
  }
  private write(level: Level, msg: string, f?: Record<string, unknown>): void {
    if (order[level] < order[this.level]) return;
    const line = { ts: new Date().toISOString(), level, msg, ...this.fields, ...f };
    process.stdout.write(
      JSON.stringify(line, (_k, v: unknown) => (v instanceof Error ? v.message : v)) + '\n',
    );
  }
}
