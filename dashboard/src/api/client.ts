// One typed fetch for every OpenStack API the dashboard talks to, same-origin, with the user's token from memory.
import { ApiError, messageOf } from './errors';
import { sessionStore, type Session } from './session';

export type Service = 'identity' | 'compute' | 'image' | 'network' | 'volume' | 'monitoring';

/** Where each service lives on Gureum's one port when the catalog does not say. */
const DEFAULT_PREFIX: Record<Service, string> = {
  identity: '/identity/v3', compute: '/compute/v2.1', image: '/image', network: '/network', volume: '/volume/v3/%(project_id)s',
  // Gureum's own time-series API (docs/observability.md): not in the catalog, always on this port.
  monitoring: '/monitoring/v1',
};

/** Catalog types that name each service (Cinder is listed as block-storage and volumev3). */
const CATALOG_TYPES: Record<Service, string[]> = {
  identity: ['identity'], compute: ['compute'], image: ['image'], network: ['network'], volume: ['block-storage', 'volumev3'], monitoring: [],
};

/** Nova microversion the dashboard is written against (embedded flavors, remote-consoles, keypair generation). */
export const COMPUTE_MICROVERSION = '2.79';

/** The path prefix of a service, from the catalog's public endpoint (same origin: only its path is used). */
export function servicePrefix(service: Service, session: Session | null): string {
  if (service === 'identity' || !session) return DEFAULT_PREFIX[service];
  const withProject = (path: string) => path.replace('%(project_id)s', session.project.id).replace('$(project_id)s', session.project.id);
  const entry = session.catalog.find((c) => CATALOG_TYPES[service].includes(c.type));
  const ep = entry?.endpoints.find((e) => e.interface === 'public') ?? entry?.endpoints[0];
  if (!ep) return withProject(DEFAULT_PREFIX[service]);
  try {
    return withProject(decodeURIComponent(new URL(ep.url).pathname).replace(/\/+$/, ''));
  } catch {
    return withProject(DEFAULT_PREFIX[service]);
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Send this token instead of the session's (login, re-scope, revoke). */
  token?: string | null;
  headers?: Record<string, string>;
  /** Do not treat a 401 as "session expired" (the login form's own calls). */
  anonymous?: boolean;
}

export interface Response<T> {
  data: T;
  headers: Headers;
  status: number;
}

/** Calls one API; throws ApiError with the service's own message and the request id. */
export async function call<T>(service: Service, path: string, opts: RequestOptions = {}): Promise<Response<T>> {
  const session = sessionStore.get().session;
  const token = opts.token !== undefined ? opts.token : session?.token ?? null;
  // Signed out (the login dialog is open): pages behind it wait instead of calling without a token.
  if (!token && !opts.anonymous) throw new ApiError('signed out', 401, null);
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (token) headers['X-Auth-Token'] = token;
  if (service === 'compute') headers['OpenStack-API-Version'] = `compute ${COMPUTE_MICROVERSION}`;
  if (service === 'volume') headers['OpenStack-API-Version'] = 'volume 3.60';
  let body: BodyInit | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] ??= 'application/json';
    body = headers['Content-Type'].includes('json') ? JSON.stringify(opts.body) : (opts.body as BodyInit);
  }
  let res: globalThis.Response;
  try {
    res = await fetch(`${servicePrefix(service, session)}${path}`, {
      method: opts.method ?? 'GET', headers, body, credentials: 'omit', cache: 'no-store', redirect: 'error',
    });
  } catch {
    throw new ApiError('network', 0, null);
  }
  const requestId = res.headers.get('x-openstack-request-id') ?? res.headers.get('x-compute-request-id');
  const text = await res.text();
  if (!res.ok) {
    if (res.status === 401 && !opts.anonymous && token && token === sessionStore.get().session?.token) {
      sessionStore.end('expired');
    }
    throw new ApiError(messageOf(res.status, text), res.status, requestId);
  }
  const data = (text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text) as T;
  return { data, headers: res.headers, status: res.status };
}

/** GET returning the body only. */
export async function get<T>(service: Service, path: string): Promise<T> {
  return (await call<T>(service, path)).data;
}

/** A write returning the body only. */
export async function send<T = unknown>(service: Service, method: string, path: string, body?: unknown): Promise<T> {
  return (await call<T>(service, path, { method, body })).data;
}

/**
 * PUT of a file with upload progress (fetch cannot report it): used for image data.
 * `onProgress` receives the fraction sent, 0..1.
 */
export function upload(service: Service, path: string, file: Blob, onProgress: (fraction: number) => void): Promise<void> {
  const session = sessionStore.get().session;
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `${servicePrefix(service, session)}${path}`);
    if (session) xhr.setRequestHeader('X-Auth-Token', session.token);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      if (xhr.status === 401) sessionStore.end('expired');
      reject(new ApiError(messageOf(xhr.status, xhr.responseText), xhr.status, xhr.getResponseHeader('x-openstack-request-id')));
    };
    xhr.onerror = () => reject(new ApiError('network', 0, null));
    xhr.send(file);
  });
}
