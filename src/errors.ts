/**
 * The one error catalogue. Services throw these; each API maps them once to its own body
 * (src/api/http/error-bodies.ts). `code` is a stable machine name (Neutron's `type`, e.g. "NetworkInUse").
 */
export type ErrorKind =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'Conflict'
  | 'Gone'
  | 'PayloadTooLarge'
  | 'UnsupportedMediaType'
  | 'RangeNotSatisfiable'
  | 'OverQuota'
  | 'InvalidState'
  | 'ServiceUnavailable'
  | 'Internal';

/** Default HTTP status per kind; an API may override (Neutron answers OverQuota with 409, Nova with 403). */
export const defaultStatus: Record<ErrorKind, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  Conflict: 409,
  Gone: 410,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  RangeNotSatisfiable: 416,
  OverQuota: 403,
  InvalidState: 409,
  ServiceUnavailable: 503,
  Internal: 500,
};

export interface CloudErrorOptions {
  /** Stable machine-readable name, e.g. Neutron's exception type ("SubnetInUse"). */
  code?: string;
  /** Longer text where an API has a separate field for it (Neutron `detail`). */
  detail?: string;
  /** Overrides the kind's default status for this one error. */
  status?: number;
  /** Extra response headers (e.g. WWW-Authenticate, Retry-After). */
  headers?: Record<string, string>;
}

/** A domain error with a kind, a user-facing message and optional machine code. */
export class CloudError extends Error {
  readonly kind: ErrorKind;
  readonly code: string | undefined;
  readonly detail: string | undefined;
  readonly status: number;
  readonly headers: Record<string, string> | undefined;

  constructor(kind: ErrorKind, message: string, opts: CloudErrorOptions = {}) {
    super(message);
    this.name = 'CloudError';
    this.kind = kind;
    this.code = opts.code;
    this.detail = opts.detail;
    this.status = opts.status ?? defaultStatus[kind];
    this.headers = opts.headers;
  }
}

export const badRequest = (message: string, opts?: CloudErrorOptions) => new CloudError('BadRequest', message, opts);
export const unauthorized = (
  message = 'The request you have made requires authentication.',
  opts?: CloudErrorOptions,
) => new CloudError('Unauthorized', message, opts);
export const forbidden = (
  message = 'You are not authorized to perform the requested action.',
  opts?: CloudErrorOptions,
) => new CloudError('Forbidden', message, opts);
export const notFound = (message: string, opts?: CloudErrorOptions) => new CloudError('NotFound', message, opts);
export const conflict = (message: string, opts?: CloudErrorOptions) => new CloudError('Conflict', message, opts);
export const invalidState = (message: string, opts?: CloudErrorOptions) =>
  new CloudError('InvalidState', message, opts);
export const overQuota = (message: string, opts?: CloudErrorOptions) => new CloudError('OverQuota', message, opts);

export function isCloudError(e: unknown): e is CloudError {
  return e instanceof CloudError;
}
