// Checks on image attributes shared by create and update, with Glance's answers (400 bad value,
// 403 read-only or reserved attribute).
import { badRequest, forbidden } from '../../errors.js';
import { CONTAINER_FORMATS, DISK_FORMATS, VISIBILITIES } from './common.js';

/** Attributes a user may never set. */
export const READ_ONLY = new Set([
  'id',
  'status',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'size',
  'virtual_size',
  'created_at',
  'updated_at',
  'file',
  'self',
  'schema',
  'direct_url',
  'stores',
  'deleted',
  'deleted_at',
]);
/** Core attributes stored in columns, with their checks. */
export const CORE = new Set([
  'name',
  'visibility',
  'protected',
  'os_hidden',
  'owner',
  'disk_format',
  'container_format',
  'min_disk',
  'min_ram',
  'tags',
]);

/** Refuses read-only and reserved names (403, as Glance). `creating` allows `id`. */
export function checkWritableName(name: string, creating = false): void {
  if (creating && name === 'id') return;
  if (READ_ONLY.has(name)) throw forbidden(`Attribute '${name}' is read-only.`);
  if (name.startsWith('os_glance')) throw forbidden(`Attribute '${name}' is reserved.`);
  if (name === 'locations') throw forbidden("It's not allowed to update locations if locations are invisible.");
}

function enumValue(field: string, v: unknown, allowed: readonly string[], nullable: boolean): string | null {
  if (v === null && nullable) return null;
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw badRequest(
      `Invalid value for '${field}': ${JSON.stringify(v)?.slice(0, 64)} is not one of ${allowed.join(', ')}.`,
    );
  }
  return v;
}

function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw badRequest(`Invalid value for '${field}': must be a boolean.`);
  return v;
}

function nonNegInt(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) {
    throw badRequest(`Invalid value for '${field}': must be an integer of at least 0.`);
  }
  return v;
}

/** One tag: a string of 1..255 characters. */
export function checkTag(t: unknown): string {
  if (typeof t !== 'string' || t.length === 0 || t.length > 255)
    throw badRequest('Invalid tag: a tag is a string of 1 to 255 characters.');
  return t;
}

/** A custom property: name up to 255 characters, value a string up to 65535 characters. */
export function checkProperty(name: string, v: unknown): string {
  if (name.length === 0 || name.length > 255) throw badRequest('Invalid property name: 1 to 255 characters.');
  if (typeof v !== 'string') throw badRequest(`Invalid value for property '${name}': must be a string.`);
  if (v.length > 65535) throw badRequest(`Invalid value for property '${name}': at most 65535 characters.`);
  return v;
}

/** Validates one core attribute's value and returns it in column form. */
export function coreValue(field: string, v: unknown): string | number | boolean | null | string[] {
  switch (field) {
    case 'name':
      if (v === null) return null;
      if (typeof v !== 'string') throw badRequest("Invalid value for 'name': must be a string or null.");
      if (v.length > 255) throw badRequest("Invalid value for 'name': at most 255 characters.");
      return v;
    case 'visibility':
      return enumValue(field, v, VISIBILITIES, false);
    case 'disk_format':
      return enumValue(field, v, DISK_FORMATS, true);
    case 'container_format':
      return enumValue(field, v, CONTAINER_FORMATS, true);
    case 'protected':
    case 'os_hidden':
      return bool(field, v);
    case 'min_disk':
    case 'min_ram':
      return nonNegInt(field, v);
    case 'owner':
      if (v === null) return null;
      if (typeof v !== 'string' || v.length > 255)
        throw badRequest("Invalid value for 'owner': a string of at most 255 characters.");
      return v;
    case 'tags': {
      if (!Array.isArray(v)) throw badRequest("Invalid value for 'tags': must be a list of strings.");
      const tags = v.map(checkTag);
      if (new Set(tags).size !== tags.length) throw badRequest("Invalid value for 'tags': tags must be unique.");
      return tags;
    }
    default:
      throw badRequest(`Unknown attribute '${field}'.`);
  }
}
