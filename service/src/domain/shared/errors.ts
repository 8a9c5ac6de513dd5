// Domain failures; the HTTP layer maps each kind to one problem type and status.
export abstract class DomainError extends Error {
  abstract readonly kind: string;
  constructor(message: string, readonly details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError { readonly kind = 'not-found'; }
export class ConflictError extends DomainError { readonly kind = 'conflict'; }
export class UnauthorizedError extends DomainError { readonly kind = 'unauthorized'; }
export class ForbiddenError extends DomainError { readonly kind = 'forbidden'; }
export class PreconditionFailedError extends DomainError { readonly kind = 'precondition-failed'; }
export class PreconditionRequiredError extends DomainError { readonly kind = 'precondition-required'; }

export class RuleViolationError extends DomainError {
  readonly kind = 'rule-violation';
  constructor(readonly rule: string, message: string) {
    super(message, { rule });
  }
}

export class TooManyRequestsError extends DomainError {
  readonly kind = 'too-many-requests';
  constructor(message: string, readonly retryAfterSeconds: number) {
    super(message);
  }
}

export class ServiceUnavailableError extends DomainError { readonly kind = 'service-unavailable'; }
