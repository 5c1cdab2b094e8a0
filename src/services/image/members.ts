// Image sharing: the owner adds projects as members of a `shared` image; each member accepts or rejects.
import type { AuthContext } from '../auth-context.js';
import type { ImageMemberRow } from '../../store/image-tables.js';
import { badRequest, conflict, forbidden, notFound, CloudError } from '../../errors.js';
import { isUniqueViolation } from '../../store/database.js';
import { admin, MEMBER_STATUSES, now, type ImageDeps } from './common.js';
import type { Images } from './images.js';

/** A membership as the API shows it. */
export type ImageMember = ImageMemberRow;

export class Members {
  constructor(
    private readonly d: ImageDeps,
    private readonly images: Images,
  ) {}

  private async sharedImage(a: AuthContext, imageId: string) {
    const r = await this.images.visibleRow(a, imageId);
    return r;
  }

  /** Members of an image: the owner sees all, a member sees only itself. */
  async list(a: AuthContext, imageId: string): Promise<ImageMember[]> {
    const r = await this.sharedImage(a, imageId);
    let q = this.d.db.selectFrom('image_members').selectAll().where('image_id', '=', r.id);
    if (!this.images.canModify(a, r)) q = q.where('member_id', '=', a.projectId ?? '');
    return q.orderBy('created_at').orderBy('member_id').execute();
  }

  async get(a: AuthContext, imageId: string, memberId: string): Promise<ImageMember> {
    const r = await this.sharedImage(a, imageId);
    if (!this.images.canModify(a, r) && memberId !== a.projectId)
      throw notFound(`Member ${memberId} not found for image ${imageId}.`);
    const m = await this.d.db
      .selectFrom('image_members')
      .selectAll()
      .where('image_id', '=', r.id)
      .where('member_id', '=', memberId)
      .executeTakeFirst();
    if (!m) throw notFound(`Member ${memberId} not found for image ${imageId}.`);
    return m;
  }

  /** The owner shares the image with a project; the membership starts `pending`. */
  async add(a: AuthContext, imageId: string, memberId: unknown): Promise<ImageMember> {
    const r = await this.images.writableRow(a, imageId, 'share');
    if (typeof memberId !== 'string' || memberId.length === 0 || memberId.length > 255) {
      throw badRequest("Invalid value for 'member': a project id is required.");
    }
    if (r.visibility !== 'shared')
      throw forbidden(`Only shared images have members (image ${imageId} is ${r.visibility}).`);
    const count = await this.d.db
      .selectFrom('image_members')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('image_id', '=', r.id)
      .executeTakeFirst();
    if (Number(count?.n ?? 0) >= this.d.options.maxMembers)
      throw new CloudError(
        'PayloadTooLarge',
        `Maximum number of image members (${this.d.options.maxMembers}) exceeded.`,
      );
    const ts = now();
    const row: ImageMemberRow = {
      image_id: r.id,
      member_id: memberId,
      status: 'pending',
      created_at: ts,
      updated_at: ts,
    };
    try {
      await this.d.db.insertInto('image_members').values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`Member ${memberId} already exists for image ${imageId}.`);
      throw e;
    }
    return row;
  }

  /** Only the member itself (or an admin) changes its status. */
  async setStatus(a: AuthContext, imageId: string, memberId: string, status: unknown): Promise<ImageMember> {
    const r = await this.sharedImage(a, imageId);
    if (typeof status !== 'string' || !(MEMBER_STATUSES as readonly string[]).includes(status)) {
      throw badRequest(
        `Invalid status: ${JSON.stringify(status)?.slice(0, 40)}; must be one of ${MEMBER_STATUSES.join(', ')}.`,
      );
    }
    const m = await this.d.db
      .selectFrom('image_members')
      .selectAll()
      .where('image_id', '=', r.id)
      .where('member_id', '=', memberId)
      .executeTakeFirst();
    if (!m) throw notFound(`Member ${memberId} not found for image ${imageId}.`);
    if (!admin(a) && a.projectId !== memberId)
      throw forbidden('Only the member itself may accept or reject an image share.');
    const ts = now();
    await this.d.db
      .updateTable('image_members')
      .set({ status, updated_at: ts })
      .where('image_id', '=', r.id)
      .where('member_id', '=', memberId)
      .execute();
    return { ...m, status, updated_at: ts };
  }

  /** The owner removes a member. */
  async remove(a: AuthContext, imageId: string, memberId: string): Promise<void> {
    const r = await this.images.visibleRow(a, imageId);
    if (!this.images.canModify(a, r)) throw forbidden('Only the image owner may remove members.');
    const res = await this.d.db
      .deleteFrom('image_members')
      .where('image_id', '=', r.id)
      .where('member_id', '=', memberId)
      .executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw notFound(`Member ${memberId} not found for image ${imageId}.`);
  }
}
