// Every error becomes problem+json. Clients never see stack traces, SQL or driver messages.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import {
  BaseError as SequelizeError,
  ConnectionError,
  ConnectionAcquireTimeoutError,
  TimeoutError,
} from 'sequelize';
import {
  DomainError,
  RuleViolationError,
  ServiceUnavailableError,
  TooManyRequestsError,
} from '../../domain/shared/errors.js';
import type { Logger } from '../../domain/shared/ports.js';
import { HttpProblem, type ProblemKind, sendProblem } from '../problem.js';

const DOMAIN_KINDS: Record<string, ProblemKind> = {
  'not-found': 'not-found',
  conflict: 'conflict',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  'precondition-failed': 'precondition-failed',
  'precondition-required': 'precondition-required',
  'rule-violation': 'rule-violation',
  'too-many-requests': 'too-many-requests',
  'service-unavailable': 'service-unavailable',
};

// body-parser marks its errors with a type; map the ones a client can cause.
const BODY_PARSER_KINDS: Record<string, ProblemKind> = {
  'entity.parse.failed': 'malformed-json',
  'entity.too.large': 'payload-too-large',
  'encoding.unsupported': 'unsupported-media-type',
  'charset.unsupported': 'unsupported-media-type',
  'entity.verify.failed': 'validation-error',
  'request.aborted': 'validation-error',
};

export function isDatabaseUnavailable(err: unknown): boolean {
  if (
    err instanceof ConnectionError ||
    err instanceof ConnectionAcquireTimeoutError ||
    err instanceof TimeoutError
  ) {
    return true;
  }
  // pg reports a connection lost mid-query as a plain error wrapped by Sequelize.
  if (err instanceof SequelizeError) {
    const original = (err as { original?: { code?: string; message?: string } }).original;
    const code = original?.code ?? '';
    return (
      [
        'ECONNREFUSED',
        'ECONNRESET',
        'ETIMEDOUT',
        'EPIPE',
        '57P01',
        '57P02',
        '57P03',
        '08006',
        '08001',
        '08003',
      ].includes(code) ||
      /Connection terminated|connection is closed|not queryable/i.test(original?.message ?? '')
    );
  }
  return false;
}

// Errors that Express and its parsers raise for a request they cannot read (http-errors with a
// 4xx status): a bad percent-escape in the path, a body whose Content-Encoding does not decode.
function clientErrorKind(err: unknown): { kind: ProblemKind; detail: string } | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  if (err instanceof URIError)
    return { kind: 'validation-error', detail: 'the path is not valid percent-encoding' };
  if (status === 413) return { kind: 'payload-too-large', detail: 'the body exceeds the size limit' };
  if (status === 415)
    return { kind: 'unsupported-media-type', detail: 'unsupported body encoding or charset' };
  return { kind: 'malformed-json', detail: 'the body could not be decoded as its Content-Encoding says' };
}

export function notFound(): RequestHandler {
  return (req, _res, next) => next(new HttpProblem('not-found', `no route for ${req.method} ${req.path}`));
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof HttpProblem) return sendProblem(res, err.kind, err.detail, err.extra);
    if (err instanceof DomainError) {
      if (
        (err instanceof TooManyRequestsError || err instanceof ServiceUnavailableError) &&
        err.retryAfterSeconds !== undefined
      ) {
        res.setHeader('Retry-After', String(err.retryAfterSeconds));
      }
      const extra: Record<string, unknown> =
        err instanceof RuleViolationError ? { rule: err.rule } : { ...err.details };
      return sendProblem(res, DOMAIN_KINDS[err.kind] ?? 'internal', err.message, extra);
    }
    const bodyType = (err as { type?: unknown }).type;
    if (typeof bodyType === 'string' && BODY_PARSER_KINDS[bodyType]) {
      const kind = BODY_PARSER_KINDS[bodyType];
      return sendProblem(
        res,
        kind,
        kind === 'payload-too-large' ? 'the body exceeds the size limit' : undefined,
      );
    }
    const clientError = clientErrorKind(err);
    if (clientError) {
      log.warn('refused a malformed request', { error: (err as Error).message });
      return sendProblem(res, clientError.kind, clientError.detail);
    }
    if (isDatabaseUnavailable(err)) {
      log.warn('database unavailable', { error: (err as Error).message });
      res.setHeader('Retry-After', '5');
      return sendProblem(res, 'service-unavailable', 'the database is not reachable; retry shortly');
    }
    log.error('unhandled error', { error: err });
    sendProblem(res, 'internal', 'an unexpected error occurred; quote the request id when reporting it');
  };
}
