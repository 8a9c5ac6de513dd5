// RFC 9457 problem details: one stable type URI and status per kind of failure.
import type { Response } from 'express';
import { currentRequestId } from '../infrastructure/logging/request-context.js';

export const PROBLEM_BASE = 'https://platform.sqlize.dev/problems/';

export const PROBLEMS = {
  'validation-error': { status: 400, title: 'The request is not valid' },
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  unauthorized: { status: 401, title: 'Authentication is required' },
  forbidden: { status: 403, title: 'Not allowed' },
  'csrf-failed': { status: 403, title: 'CSRF token missing or wrong' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  'precondition-failed': { status: 412, title: 'The resource has changed' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Send application/json' },
  'rule-violation': { status: 422, title: 'A business rule was violated' },
  'precondition-required': { status: 428, title: 'A version is required' },
  'too-many-requests': { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  'service-unavailable': { status: 503, title: 'Service unavailable' },
} as const;

export type ProblemKind = keyof typeof PROBLEMS;

export class HttpProblem extends Error {
  constructor(
    readonly kind: ProblemKind,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? PROBLEMS[kind].title);
  }
}

export interface ValidationIssue {
  path: string;
  message: string;
}

export function sendProblem(
  res: Response,
  kind: ProblemKind,
  detail?: string,
  extra: Record<string, unknown> = {},
): void {
  const { status, title } = PROBLEMS[kind];
  res
    .status(status)
    .type('application/problem+json')
    .json({
      type: PROBLEM_BASE + kind,
      title,
      status,
      ...(detail ? { detail } : {}),
      instance: res.req.originalUrl.split('?')[0],
      requestId: currentRequestId(),
      ...extra,
    });
}
