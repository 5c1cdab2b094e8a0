import type { CloudError } from '../../errors.js';

/** The error body shapes of the OpenStack services. Each service plugin picks one. */
export type ErrorFormat = 'keystone' | 'nova' | 'neutron' | 'glance' | 'cinder';

export interface RenderedError {
  status: number;
  contentType: string;
  body: string;
}

const reason: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** Nova's (and Cinder's) fault names by status. */
const novaFault: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  406: 'notAcceptable',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

/** Neutron's exception type when the service gave no specific code. */
const neutronType: Record<number, string> = {
  400: 'BadRequest',
  401: 'NotAuthorized',
  403: 'PolicyNotAuthorized',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  503: 'ServiceUnavailable',
};

const json = (status: number, body: unknown): RenderedError => ({
  status,
  contentType: 'application/json',
  body: JSON.stringify(body),
});

/** Renders one error in one service's format: the single place where errors become bodies. */
export function renderError(format: ErrorFormat, err: CloudError): RenderedError {
  const status = err.status;
  const title = reason[status] ?? 'Error';
  switch (format) {
    case 'keystone':
      return json(status, { error: { code: status, title, message: err.message } });
    case 'nova':
    case 'cinder': {
      // Cinder kept Nova's fault names, computeFault for a 5xx included.
      const key = status >= 500 ? 'computeFault' : (novaFault[status] ?? 'badRequest');
      return json(status, { [key]: { code: status, message: err.message } });
    }
    case 'neutron':
      return json(status, {
        NeutronError: {
          type: err.code ?? neutronType[status] ?? 'NeutronError',
          message: err.message,
          detail: err.detail ?? '',
        },
      });
    case 'glance':
      // Glance answers errors as webob's plain-text pages; clients only read the status and this text.
      return {
        status,
        contentType: 'text/plain; charset=UTF-8',
        body: `${status} ${title}\n\n${err.message}\n\n   `,
      };
  }
}
