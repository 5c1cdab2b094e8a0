// A small HTTP client for tests: one call, the status, headers and a parsed body.

/** What a test needs from one HTTP exchange. */
export interface HttpResult {
  /** HTTP status code. */
  status: number;
  /** Response headers (lower-case names). */
  headers: Headers;
  /** Parsed JSON when the response was JSON, else the raw text ('' when empty). */
  body: any;
  /** The raw response text. */
  text: string;
}

/** Options for {@link request}. */
export interface RequestOptions {
  /** Sent as X-Auth-Token. */
  token?: string;
  /** Serialized as JSON with Content-Type application/json. */
  json?: unknown;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Abort after this many milliseconds (default 30 s). */
  timeoutMs?: number;
}

/** Sends one request to `baseUrl + path` and reads the whole response. */
export async function request(method: string, url: string, opts: RequestOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (opts.token) headers['X-Auth-Token'] = opts.token;
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(url, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  });
  const text = await res.text();
  let parsed: any = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** One line describing an exchange, for assertion messages: `GET /x -> 404 {"error":...}`. */
export function describeExchange(method: string, url: string, res: HttpResult): string {
  const text = res.text.length > 600 ? `${res.text.slice(0, 600)}...` : res.text;
  return `${method} ${url} -> ${res.status} ${text}`;
}
