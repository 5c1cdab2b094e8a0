// JSON-patch bodies of PATCH /v2/images/{id}, in both media types Glance accepts:
// application/openstack-images-v2.1-json-patch (RFC 6902: {"op", "path", "value"}) and the older
// application/openstack-images-v2.0-json-patch ({"replace": "/path", "value"}).
import type { PatchOp } from '../../services/image/index.js';
import { badRequest, CloudError } from '../../errors.js';

export const PATCH_V21 = 'application/openstack-images-v2.1-json-patch';
export const PATCH_V20 = 'application/openstack-images-v2.0-json-patch';
const OPS = new Set(['add', 'replace', 'remove']);

function pointer(p: unknown): string[] {
  if (typeof p !== 'string' || !p.startsWith('/') || p.length < 2)
    throw badRequest(`Invalid JSON pointer '${String(p).slice(0, 64)}': it must start with '/'.`);
  return p
    .slice(1)
    .split('/')
    .map((s) => {
      if (/~[^01]/.test(s) || s.endsWith('~')) throw badRequest(`Invalid JSON pointer '${p.slice(0, 64)}'.`);
      return s.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

/** The JSON-patch media type of a request; 415 for any other. */
export function checkPatchType(contentType: string | undefined): typeof PATCH_V21 | typeof PATCH_V20 {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct !== PATCH_V21 && ct !== PATCH_V20) {
    throw new CloudError('UnsupportedMediaType', `Unsupported Content-Type '${ct.slice(0, 80)}'; use ${PATCH_V21}.`);
  }
  return ct;
}

/** Parses the body for the given Content-Type into operations (415 for other media types). */
export function parsePatch(contentType: string | undefined, body: unknown): PatchOp[] {
  const ct = checkPatchType(contentType);
  if (!Array.isArray(body)) throw badRequest('Request body must be a JSON array of operation objects.');
  return body.map((raw): PatchOp => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw badRequest('Operations must be JSON objects.');
    const o = raw as Record<string, unknown>;
    let op: string;
    let path: unknown;
    if (ct === PATCH_V21) {
      op = String(o.op);
      path = o.path;
      if (!OPS.has(op)) throw badRequest(`Operation "${op.slice(0, 16)}" not supported; use add, replace or remove.`);
    } else {
      const found = [...OPS].filter((k) => k in o);
      if (found.length !== 1)
        throw badRequest('Operation objects must contain exactly one of "add", "remove" or "replace".');
      op = found[0]!;
      path = o[op];
    }
    if (op !== 'remove' && !('value' in o)) throw badRequest(`Operation "${op}" requires a member named "value".`);
    return { op: op as PatchOp['op'], path: pointer(path), value: o.value };
  });
}
