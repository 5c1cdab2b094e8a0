// Request bodies are untrusted: before JSON.parse builds anything, the nesting depth is counted on the text (a body
// nested thousands deep would overflow the stack of every recursive walk after it); after parsing, keys that
// reach object prototypes and numbers no column can hold are refused. Each failure is a 400 in the service's body.
import { badRequest } from '../../errors.js';

/** OpenStack bodies nest a few levels (domain configs, access rules, block devices); 32 leaves room. */
export const MAX_JSON_DEPTH = 32;
const POLLUTING = new Set(['__proto__', 'constructor', 'prototype']);

/** The deepest nesting of arrays and objects in JSON text, counting outside strings only; stops past `limit`. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** Throws 400 for a key that names a prototype or a number beyond what JSON integers can mean here. */
function checkValues(v: unknown, path: string): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v))) {
      throw badRequest(`Invalid input for field/attribute ${path || 'body'}: the number is out of range.`);
    }
  } else if (Array.isArray(v)) {
    for (const x of v) checkValues(x, path);
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (POLLUTING.has(k)) throw badRequest(`Invalid input: the key "${k}" is not allowed.`);
      checkValues(x, k);
    }
  }
}

/** Parses a JSON request body with the edge checks; empty text is "no body". */
export function parseJsonBody(raw: string): unknown {
  const text = raw.trim();
  if (text === '') return undefined;
  if (jsonDepth(text) > MAX_JSON_DEPTH)
    throw badRequest(`Malformed request body: JSON nested deeper than ${MAX_JSON_DEPTH} levels.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('Malformed request body: the body is not valid JSON.');
  }
  checkValues(value, '');
  return value;
}

/** Throws 400 when a query string names a prototype key (`?__proto__=1`). */
export function checkQueryKeys(url: string): void {
  const q = url.indexOf('?');
  if (q < 0) return;
  for (const key of new URLSearchParams(url.slice(q + 1)).keys()) {
    if (POLLUTING.has(key)) throw badRequest(`Invalid query parameter: "${key}" is not allowed.`);
  }
}
