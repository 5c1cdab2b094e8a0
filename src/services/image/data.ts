// Image data: upload (PUT file), stage + import (glance-direct, copy-image), download, delete, deactivate.
// Every file from a user passes the format inspector before anything else reads it.
import type { Readable } from 'node:stream';
import type { ReadStream } from 'node:fs';
import type { AuthContext } from '../auth-context.js';
import type { ImageRow } from '../../store/image-tables.js';
import { CloudError, badRequest, conflict, forbidden, notFound } from '../../errors.js';
import { openFileSource, verifyImage, ImageRefused, type Verdict } from '../../disk/inspector/index.js';
import * as qemuImg from '../../disk/qemu-img.js';
import { allowed } from '../policy.js';
import { admin, IMPORT_METHODS, STORE_ID, type ImageDeps } from './common.js';
import type { Images } from './images.js';
import type { Quotas } from './quotas.js';
import type { Tasks } from './tasks.js';
import type { LocalStore } from './store.js';
import { extractMember, readOva } from './ova.js';
import { overLimit } from './quotas.js';

/** What a download serves. */
export interface Download {
  stream: ReadStream;
  /** Total size of the image. */
  size: number;
  checksum: string | null;
  /** The inclusive byte range served, when the request asked for one. */
  range?: { start: number; end: number };
}

/** POST /v2/images/{id}/import, validated. */
export interface ImportRequest {
  method: string;
  stores?: string[];
  allStores?: boolean;
  allStoresMustSucceed?: boolean;
}

/** Runs the inspector on a file and turns a refusal into a 400. */
export async function inspectFile(path: string, diskFormat: string, containerFormat: string): Promise<Verdict> {
  const src = await openFileSource(path);
  try {
    return await verifyImage(src, diskFormat, containerFormat);
  } catch (e) {
    if (e instanceof ImageRefused)
      throw badRequest(e.message, { code: `Image${e.kind[0]!.toUpperCase()}${e.kind.slice(1)}` });
    throw e;
  } finally {
    await src.close();
  }
}

/** The format to hand qemu-img for a verified file: anything raw-like is read as raw. */
function qemuSource(v: Verdict): string {
  return ['raw', 'gpt', 'iso', 'luks'].includes(v.detected) ? 'raw' : v.detected;
}

export class ImageData {
  private readonly jobs = new Set<Promise<void>>();

  constructor(
    private readonly d: ImageDeps,
    private readonly images: Images,
    private readonly quotas: Quotas,
    private readonly tasks: Tasks,
    readonly store: LocalStore,
  ) {}

  /** Resolves when no import job is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.jobs.size) await Promise.allSettled([...this.jobs]);
  }

  private limitsFor(left: number, contentLength: number | undefined) {
    const cap = this.d.options.sizeCap;
    if (contentLength !== undefined && contentLength > cap) {
      throw new CloudError('PayloadTooLarge', `Image exceeds the size limit of ${cap} bytes.`);
    }
    if (contentLength !== undefined && contentLength > left)
      throw overLimit(`the upload of ${contentLength} bytes would exceed the storage quota`);
    return {
      maxBytes: Math.min(cap, left),
      ...(contentLength !== undefined ? { expectedBytes: contentLength } : {}),
      tooLargeMessage:
        left < cap
          ? 'Request Entity Too Large: the image exceeds the storage quota.'
          : `Image exceeds the size limit of ${cap} bytes.`,
    };
  }

  private needsFormats(row: ImageRow): void {
    if (!row.disk_format || !row.container_format) {
      throw badRequest('Properties disk_format, container_format must be set prior to saving data.');
    }
  }

  /** PUT /v2/images/{id}/file: streams, hashes, inspects, then activates; on any failure the image is queued again. */
  async upload(a: AuthContext, id: string, body: Readable, contentLength?: number): Promise<void> {
    const row = await this.images.writableRow(a, id, 'upload data to');
    this.needsFormats(row);
    if (row.status !== 'queued') throw conflict(`Image status transition from ${row.status} to saving is not allowed`);
    const limits = this.limitsFor(await this.quotas.remainingBytes(row.owner, 'store'), contentLength);
    if (!(await this.images.transition(id, ['queued'], { status: 'saving' }))) {
      throw conflict('Image status transition from saving to saving is not allowed');
    }
    let tmp: string | undefined;
    try {
      const rec = await this.store.receive(id, body, limits);
      tmp = rec.tmpPath;
      const verdict = await inspectFile(rec.tmpPath, row.disk_format!, row.container_format!);
      const final = this.store.dataPath(id);
      await this.store.commit(rec.tmpPath, final);
      tmp = undefined;
      const ok = await this.images.transition(id, ['saving'], {
        status: 'active',
        size: rec.size,
        virtual_size: verdict.virtualSize,
        checksum: rec.md5,
        os_hash_algo: 'sha512',
        os_hash_value: rec.sha512,
        stores: STORE_ID,
      });
      if (!ok) {
        await this.store.remove(final);
        throw notFound(`Image ${id} was deleted during the upload.`);
      }
    } catch (e) {
      if (tmp) await this.store.remove(tmp);
      await this.images.transition(id, ['saving'], { status: 'queued' });
      throw e;
    }
  }

  /** PUT /v2/images/{id}/stage: data into the staging area; the image becomes `uploading`. */
  async stage(a: AuthContext, id: string, body: Readable, contentLength?: number): Promise<void> {
    const row = await this.images.writableRow(a, id, 'stage data for');
    if (row.status !== 'queued')
      throw conflict(`Image status transition from ${row.status} to uploading is not allowed`);
    const limits = this.limitsFor(await this.quotas.remainingBytes(row.owner, 'stage'), contentLength);
    if (!(await this.images.transition(id, ['queued'], { status: 'uploading' }))) {
      throw conflict('Image status transition from uploading to uploading is not allowed');
    }
    try {
      const rec = await this.store.receive(id, body, limits);
      await this.store.commit(rec.tmpPath, this.store.stagingPath(id));
      const ok = await this.images.transition(id, ['uploading'], { staged_size: rec.size });
      if (!ok) {
        await this.store.remove(this.store.stagingPath(id));
        throw notFound(`Image ${id} was deleted while it was being staged.`);
      }
    } catch (e) {
      await this.images.transition(id, ['uploading'], { status: 'queued', staged_size: 0 });
      throw e;
    }
  }

  /** POST /v2/images/{id}/import: checks the request and starts the job (202). */
  async startImport(a: AuthContext, id: string, req: ImportRequest, requestId: string): Promise<void> {
    const row = await this.images.visibleRow(a, id);
    if (!(IMPORT_METHODS as readonly string[]).includes(req.method)) {
      throw badRequest(
        `Import method ${req.method.slice(0, 64)} is not valid for this cloud (available: ` +
          `${IMPORT_METHODS.join(', ')}).`,
      );
    }
    for (const s of req.stores ?? [])
      if (s !== STORE_ID) throw badRequest(`Store ${String(s).slice(0, 64)} is not available; stores: ${STORE_ID}.`);
    if (req.stores && req.allStores) throw badRequest('Either stores or all_stores may be given, not both.');
    const input = {
      image_id: id,
      import_req: {
        method: { name: req.method },
        ...(req.stores ? { stores: req.stores } : {}),
        ...(req.allStores !== undefined ? { all_stores: req.allStores } : {}),
      },
      backend: [STORE_ID],
    };
    if (req.method === 'copy-image') {
      if (!allowed(a, 'image:copy_image')) throw forbidden('You are not authorized to copy images between stores.');
      if (row.status !== 'active') throw conflict(`Image ${id} is ${row.status}; only active images can be copied.`);
      // The one store already holds the data: the copy is done as soon as it starts.
      const task = await this.tasks.create({ imageId: id, owner: row.owner, userId: a.userId, requestId, input });
      await this.images.setInternalProps(id, { os_glance_importing_to_stores: '', os_glance_failed_import: '' });
      await this.tasks.finish(task, true, '', { image_id: id });
      return;
    }
    if (!this.images.canModify(a, row)) throw forbidden('You are not permitted to import data into this image.');
    if (row.status !== 'uploading' || !(await this.store.exists(this.store.stagingPath(id)))) {
      throw conflict(`Image ${id} needs to be staged before 'glance-direct' method can be used (it is ${row.status}).`);
    }
    this.needsFormats(row);
    if (!(await this.images.transition(id, ['uploading'], { status: 'importing' }))) {
      throw conflict(`Image status transition from ${row.status} to importing is not allowed`);
    }
    const task = await this.tasks.create({ imageId: id, owner: row.owner, userId: a.userId, requestId, input });
    await this.images.setInternalProps(id, { os_glance_importing_to_stores: STORE_ID, os_glance_failed_import: '' });
    const job = this.runImport(row, task).finally(() => this.jobs.delete(job));
    this.jobs.add(job);
  }

  /** The glance-direct job: inspect, unpack an OVA, convert if configured, hash, move into the store. */
  private async runImport(row: ImageRow, taskId: string): Promise<void> {
    const id = row.id;
    const staged = this.store.stagingPath(id);
    const temps: string[] = [];
    try {
      let work = staged;
      let diskFormat = row.disk_format!;
      let containerFormat = row.container_format!;
      let verdict: Verdict;
      const extra: Record<string, string> = {};
      let minRam: number | undefined;
      if (containerFormat === 'ova') {
        const src = await openFileSource(staged);
        let found;
        try {
          found = await readOva(src);
        } finally {
          await src.close();
        }
        if (found.disk.size > this.d.options.ovaMaxBytes)
          throw badRequest('The disk in the OVA is larger than allowed.');
        const diskFile = this.store.tempPath(id, 'ova-disk');
        temps.push(diskFile);
        await extractMember(staged, found.disk, diskFile);
        const inner = await inspectFile(diskFile, 'vmdk', 'bare');
        const target = this.d.options.convertTo ?? 'qcow2';
        const out = this.store.tempPath(id, 'converted');
        temps.push(out);
        await qemuImg.convert(diskFile, qemuSource(inner), out, target);
        work = out;
        diskFormat = target;
        containerFormat = 'bare';
        if (found.ovf.cpus !== undefined) extra.ovf_vcpus = String(found.ovf.cpus);
        if (found.ovf.memoryMb !== undefined) {
          extra.ovf_memory_mb = String(found.ovf.memoryMb);
          minRam = found.ovf.memoryMb;
        }
        if (found.ovf.osDescription) extra.ovf_os = found.ovf.osDescription;
        verdict = await inspectFile(out, diskFormat, 'bare');
      } else {
        verdict = await inspectFile(staged, diskFormat, containerFormat);
        const target = this.d.options.convertTo;
        if (target && target !== diskFormat && containerFormat === 'bare') {
          const out = this.store.tempPath(id, 'converted');
          temps.push(out);
          await qemuImg.convert(staged, qemuSource(verdict), out, target);
          work = out;
          diskFormat = target;
          verdict = await inspectFile(out, diskFormat, 'bare');
        }
      }
      const sums = await this.store.hashFile(work);
      const left = await this.quotas.remainingBytes(row.owner, 'store').catch(() => 0);
      if (sums.size > left + row.staged_size && left < Number.MAX_SAFE_INTEGER)
        throw overLimit('the imported image would exceed the storage quota');
      await this.store.commit(work, this.store.dataPath(id));
      for (const t of temps) if (t !== work) await this.store.remove(t);
      if (work !== staged) await this.store.remove(staged);
      const ok = await this.images.transition(id, ['importing'], {
        status: 'active',
        size: sums.size,
        virtual_size: verdict.virtualSize,
        checksum: sums.md5,
        os_hash_algo: 'sha512',
        os_hash_value: sums.sha512,
        stores: STORE_ID,
        staged_size: 0,
        disk_format: diskFormat,
        container_format: containerFormat,
        ...(minRam !== undefined ? { min_ram: minRam } : {}),
      });
      if (!ok) {
        await this.store.remove(this.store.dataPath(id));
        throw new Error('the image was deleted during the import');
      }
      await this.images.setInternalProps(id, {
        ...extra,
        os_glance_importing_to_stores: '',
        os_glance_failed_import: '',
      });
      await this.tasks.finish(taskId, true, '', { image_id: id });
    } catch (e) {
      for (const t of temps) await this.store.remove(t);
      await this.store.remove(staged);
      const reverted = await this.images.transition(id, ['importing'], { status: 'queued', staged_size: 0 });
      if (reverted)
        await this.images.setInternalProps(id, {
          os_glance_importing_to_stores: '',
          os_glance_failed_import: STORE_ID,
        });
      // Best effort: the image is already back to queued; a task row that stays 'processing' only misreports it.
      await this.tasks.finish(taskId, false, (e as Error).message.slice(0, 1000)).catch(() => {});
    }
  }

  /** GET /v2/images/{id}/file: null when the image has no data (204). */
  async download(
    a: AuthContext,
    id: string,
    range?: { start?: number; end?: number; suffix?: number },
  ): Promise<Download | null> {
    const row = await this.images.visibleRow(a, id);
    if (row.status === 'deactivated' && !admin(a)) {
      throw forbidden('The requested image has been deactivated. Image data download is forbidden.');
    }
    if ((row.status !== 'active' && row.status !== 'deactivated') || !row.stores || row.size === null) return null;
    const size = row.size;
    if (!range) return { stream: this.store.read(id), size, checksum: row.checksum };
    let start: number;
    let end: number;
    if (range.suffix !== undefined) {
      start = Math.max(0, size - range.suffix);
      end = size - 1;
    } else {
      start = range.start ?? 0;
      end = Math.min(range.end ?? size - 1, size - 1);
    }
    if (size === 0 || start >= size || start > end) {
      throw new CloudError('RangeNotSatisfiable', `Requested range is not satisfiable for an image of ${size} bytes.`, {
        headers: { 'Content-Range': `bytes */${size}` },
      });
    }
    return { stream: this.store.read(id, { start, end }), size, checksum: row.checksum, range: { start, end } };
  }

  /** DELETE /v2/images/{id}: refused for protected images; removes the data and staged files. */
  async delete(a: AuthContext, id: string): Promise<void> {
    const row = await this.images.writableRow(a, id, 'delete');
    if (row.protected) throw forbidden(`Image ${id} is protected and cannot be deleted.`);
    await this.images.purge(id);
    await this.store.remove(this.store.dataPath(id));
    await this.store.remove(this.store.stagingPath(id));
  }

  async deactivate(a: AuthContext, id: string): Promise<void> {
    const row = await this.images.writableRow(a, id, 'deactivate');
    if (row.status === 'deactivated') return;
    if (row.status !== 'active') throw forbidden(`Not allowed to deactivate image in status '${row.status}'`);
    await this.images.transition(id, ['active'], { status: 'deactivated' });
  }

  async reactivate(a: AuthContext, id: string): Promise<void> {
    const row = await this.images.writableRow(a, id, 'reactivate');
    if (row.status === 'active') return;
    if (row.status !== 'deactivated') throw forbidden(`Not allowed to reactivate image in status '${row.status}'`);
    await this.images.transition(id, ['deactivated'], { status: 'active' });
  }

  /** After a restart: interrupted uploads go back to queued, interrupted imports to their staged state. */
  async recover(): Promise<void> {
    this.store.sweepTemp();
    await this.d.db.updateTable('images').set({ status: 'queued' }).where('status', '=', 'saving').execute();
    const rows = await this.d.db
      .selectFrom('images')
      .select(['id', 'status'])
      .where('status', 'in', ['importing', 'uploading'])
      .execute();
    for (const r of rows) {
      const staged = await this.store.exists(this.store.stagingPath(r.id));
      if (staged) await this.images.transition(r.id, [r.status], { status: 'uploading' });
      else await this.images.transition(r.id, [r.status], { status: 'queued', staged_size: 0 });
    }
    await this.tasks.failInterrupted();
  }
}
