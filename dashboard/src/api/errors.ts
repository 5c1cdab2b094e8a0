/** An API failure in words a person can act on, with the request id an operator can grep the logs for. */
export class ApiError extends Error {
  constructor(
    message: string,
    /** HTTP status; 0 when the server could not be reached at all. */
    readonly status: number,
    readonly requestId: string | null,
  ) {
    super(message);
  }
}

/** The message inside any OpenStack error body: Nova/Cinder `{fault: {message}}`, Neutron, Keystone, Glance text. */
export function messageOf(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    if (typeof body.message === 'string') return body.message;
    for (const v of Object.values(body)) {
      if (v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') {
        return (v as { message: string }).message;
      }
    }
  } catch {
    // Glance answers webob's plain text: "400 Bad Request\n\n<message>\n\n".
    const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    if (lines.length > 1 && /^\d{3}\b/.test(lines[0]!)) return lines.slice(1).join(' ');
    if (lines.length > 0 && text.length < 500 && !text.startsWith('<')) return lines.join(' ');
  }
  return `HTTP ${status}`;
}
