// winston logging to stdout with request id, redaction and DEBUG=<category> levels: one JSON object
// per line (LOG_FORMAT=json, the default), or coloured lines for a developer's terminal (pretty).
import { inspect } from 'node:util';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import winston from 'winston';
import { currentRequestId } from './request-context.js';
import { LineTransport, type LineSink, stdoutLines } from './line-writer.js';
import { redactEntry } from './redact.js';
import type { Logger, LoggerProvider } from '../../domain/shared/ports.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'http' | 'verbose' | 'debug' | 'silly';

export type { Logger } from '../../domain/shared/ports.js';

export interface LoggerOptions {
  level: LogLevel;
  format: 'json' | 'pretty';
  debugCategories: string[];
  service: string;
  // Tests pass a stream to read what was logged.
  stream?: NodeJS.WritableStream;
}

const addContext = winston.format((info) => {
  const requestId = currentRequestId();
  if (requestId && info.requestId === undefined) info.requestId = requestId;
  // With tracing on (src/telemetry/tracing.ts), a line written inside a span names it.
  const span = trace.getActiveSpan()?.spanContext();
  if (span && isSpanContextValid(span)) {
    info.trace_id = span.traceId;
    info.span_id = span.spanId;
  }
  return info;
});

const redactSecrets = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message') continue;
    info[key] = redactEntry(key, info[key]);
  }
  return info;
});

const MESSAGE = Symbol.for('message');
const safeJson = winston.format.json();

// One JSON object per line, keys in the order they were set. winston's json format (safe-stable-
// stringify) sorts the keys of every object it writes, which made it the dearest step of an access-log
// line; it remains the fallback for what JSON.stringify refuses (cycles, BigInt).
const jsonLine = winston.format((info) => {
  try {
    (info as Record<symbol, unknown>)[MESSAGE] = JSON.stringify(info);
    return info;
  } catch {
    return safeJson.transform(info, safeJson.options);
  }
});

// `12:03:04.567 info [http] request finished { status: 200, ... }`: the level in colour, the time of
// day only, the fields that every line repeats (service) left out, the rest as util.inspect shows them.
const prettyLine = winston.format.combine(
  winston.format.colorize({ level: true }),
  winston.format.printf(({ timestamp, level, message, category, service: _service, ...fields }) => {
    const time = String(timestamp).slice(11, 23);
    // Object.entries leaves out winston's symbol keys, which the rest pattern copies.
    const shown = Object.fromEntries(Object.entries(fields));
    const extra =
      Object.keys(shown).length > 0 ? ` ${inspect(shown, { colors: true, breakLength: Infinity })}` : '';
    return `\x1b[2m${time}\x1b[22m ${level} [${String(category)}] ${String(message)}${extra}`;
  }),
);

class WinstonLogger implements Logger {
  constructor(private readonly w: winston.Logger) {}
  error(m: string, meta?: Record<string, unknown>) {
    this.w.error(m, meta);
  }
  warn(m: string, meta?: Record<string, unknown>) {
    this.w.warn(m, meta);
  }
  info(m: string, meta?: Record<string, unknown>) {
    this.w.info(m, meta);
  }
  debug(m: string, meta?: Record<string, unknown>) {
    this.w.debug(m, meta);
  }
  isDebugEnabled() {
    return this.w.isDebugEnabled();
  }
}

export class LoggerFactory implements LoggerProvider {
  private readonly cache = new Map<string, Logger>();
  private readonly format: winston.Logform.Format;
  // One sink for every category, so lines keep their order.
  private readonly sink: LineSink;

  constructor(private readonly options: LoggerOptions) {
    this.sink = options.stream ?? stdoutLines();
    this.format = winston.format.combine(
      addContext(),
      redactSecrets(),
      winston.format.timestamp(),
      options.format === 'pretty' ? prettyLine : jsonLine(),
    );
  }

  // One logger per area; DEBUG=db,http (or DEBUG=*) lowers that area's level to debug.
  get(category: string): Logger {
    let logger = this.cache.get(category);
    if (!logger) {
      const debug = this.options.debugCategories;
      const level = debug.includes(category) || debug.includes('*') ? 'debug' : this.options.level;
      logger = new WinstonLogger(
        winston.createLogger({
          level,
          format: this.format,
          defaultMeta: { service: this.options.service, category },
          // A transport per logger (winston pipes each logger into its own), one sink behind them all.
          transports: [new LineTransport(this.sink)],
        }),
      );
      this.cache.set(category, logger);
    }
    return logger;
  }
}
