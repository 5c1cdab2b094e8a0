// A server's metadata and tags (2.26): the reads and writes of the two JSON columns, on an instance the caller
// already loaded and checked for its lock.
import { badRequest, conflict, notFound } from '../../errors.js';
import type { InstanceRow } from '../../store/compute-tables.js';
import { type ComputeDeps, nowIso } from './common.js';

/** Nova's per-server tag limit. */
const MAX_TAGS = 50;

async function writeColumn(d: ComputeDeps, id: string, column: 'metadata' | 'tags', value: unknown): Promise<void> {
  await d.db
    .updateTable('compute_instances')
    .set({ [column]: JSON.stringify(value), updated_at: nowIso() })
    .where('id', '=', id)
    .execute();
}

/** Merges (or with replace, replaces) the metadata after `check` accepted the result; the new metadata. */
export async function setMetadata(
  d: ComputeDeps,
  inst: InstanceRow,
  md: Record<string, string>,
  replace: boolean,
  check: (next: Record<string, string>) => Promise<void>,
): Promise<Record<string, string>> {
  if (inst.task_state === 'deleting' && inst.vm_state !== 'building')
    throw conflict(`Cannot 'update metadata' instance ${inst.id} while it is in task_state deleting`);
  const next = replace ? md : { ...(JSON.parse(inst.metadata) as Record<string, string>), ...md };
  await check(next);
  await writeColumn(d, inst.id, 'metadata', next);
  return next;
}

export async function deleteMetadataKey(d: ComputeDeps, inst: InstanceRow, key: string): Promise<void> {
  const md = JSON.parse(inst.metadata) as Record<string, string>;
  if (!(key in md)) throw notFound('Metadata item was not found', { code: 'MetadataNotFound' });
  delete md[key];
  await writeColumn(d, inst.id, 'metadata', md);
}

/** A tag as Nova accepts it: 1..60 characters, no "/" or ",". */
export function checkTag(tag: string): void {
  if (typeof tag !== 'string' || tag.length === 0 || tag.length > 60 || tag.includes('/') || tag.includes(',')) {
    throw badRequest(`Invalid input for field/attribute tag. Value: ${tag}.`);
  }
}

function tooManyTags() {
  return badRequest(`The number of tags exceeded the per-server limit ${MAX_TAGS}`, { code: 'TooManyTags' });
}

/** Replaces the tags (duplicates dropped); the tags kept. */
export async function setTags(d: ComputeDeps, inst: InstanceRow, tags: string[]): Promise<string[]> {
  tags.forEach(checkTag);
  const uniq = [...new Set(tags)];
  if (uniq.length > MAX_TAGS) throw tooManyTags();
  await writeColumn(d, inst.id, 'tags', uniq);
  return uniq;
}

/** Adds one tag; false when it was there already. */
export async function addTag(d: ComputeDeps, inst: InstanceRow, tag: string): Promise<boolean> {
  const tags = JSON.parse(inst.tags) as string[];
  if (tags.includes(tag)) return false;
  if (tags.length >= MAX_TAGS) throw tooManyTags();
  tags.push(tag);
  await writeColumn(d, inst.id, 'tags', tags);
  return true;
}

/** Removes one tag (404 when absent), or with null all of them. */
export async function deleteTag(d: ComputeDeps, inst: InstanceRow, tag: string | null): Promise<void> {
  let tags = JSON.parse(inst.tags) as string[];
  if (tag !== null) {
    if (!tags.includes(tag)) throw notFound(`Tag ${tag} could not be found.`, { code: 'TagNotFound' });
    tags = tags.filter((t) => t !== tag);
  } else tags = [];
  await writeColumn(d, inst.id, 'tags', tags);
}
