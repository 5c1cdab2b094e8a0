// How Nova's proxy APIs answer for a network error: the same message under the status Nova gives it.
import { CloudError, isCloudError } from '../../../errors.js';

/** Re-raises a network error with the status Nova's proxy gives it (`map` by the network status). */
export function translate(
  e: unknown,
  map: Partial<Record<number, 'BadRequest' | 'Forbidden' | 'NotFound' | 'Conflict'>>,
): never {
  if (isCloudError(e) && map[e.status]) {
    const kind = map[e.status]!;
    throw new CloudError(kind, e.message, { code: e.code });
  }
  throw e;
}
