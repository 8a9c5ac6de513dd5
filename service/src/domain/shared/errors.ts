// Domain failures; the HTTP layer maps each kind to one problem type and status.
export abstract class DomainError extends Error {
  abstract readonly kind: string;
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

// A DomainError subclass with a fixed kind, so each plain error below is one line.
function ofKind<K extends string>(kind: K) {
  return class extends DomainError {
    readonly kind: K = kind;
  };
}

export class NotFoundError extends ofKind('not-found') {}
export class ConflictError extends ofKind('conflict') {}
export class UnauthorizedError extends ofKind('unauthorized') {}
export class ForbiddenError extends ofKind('forbidden') {}
export class PreconditionFailedError extends ofKind('precondition-failed') {}
export class PreconditionRequiredError extends ofKind('precondition-required') {}

export class RuleViolationError extends DomainError {
  readonly kind = 'rule-violation';
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(message, { rule });
  }
}

// Refusals a client should retry later: the HTTP layer sends retryAfterSeconds as Retry-After.
export class TooManyRequestsError extends DomainError {
  readonly kind = 'too-many-requests';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export class ServiceUnavailableError extends DomainError {
  readonly kind = 'service-unavailable';
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}
