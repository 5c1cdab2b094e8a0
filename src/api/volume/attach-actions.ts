// The volume actions that concern attachments (os-reserve, os-attach, os-detach, ...), as Nova's older Cinder
// client and Tempest call them. They change records only: hot-plugging is Nova's os-volume_attachments.
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { badRequest } from '../../errors.js';
import type { VolumeService } from '../../services/volume/index.js';
import type { AuthContext } from '../../services/auth-context.js';
import { accepted, type Answer } from './route.js';

const AttachBody = Type.Object(
  {
    instance_uuid: Type.Optional(Type.Union([Type.String({ maxLength: 36 }), Type.Null()])),
    host_name: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
    mountpoint: Type.String({ minLength: 1, maxLength: 255 }),
    mode: Type.Optional(Type.Union([Type.Literal('rw'), Type.Literal('ro')])),
  },
  { additionalProperties: false },
);

/** Answers one attachment action; `undefined` when `name` is not one of them. */
export async function attachAction(
  svc: VolumeService,
  auth: AuthContext,
  id: string,
  name: string,
  value: unknown,
): Promise<Answer | { connection_info: unknown } | undefined> {
  const att = svc.attachments;
  const v = (value ?? {}) as Record<string, unknown>;
  switch (name) {
    case 'os-reserve':
      await att.reserve(auth, id, null);
      return accepted();
    case 'os-unreserve':
      await att.unreserve(auth, id);
      return accepted();
    case 'os-attach': {
      if (!Value.Check(AttachBody, value))
        throw badRequest(
          `Invalid input for field/attribute os-attach. ${[...Value.Errors(AttachBody, value)][0]?.message ?? ''}`,
        );
      const b = value as {
        instance_uuid?: string | null;
        host_name?: string | null;
        mountpoint: string;
        mode?: 'rw' | 'ro';
      };
      if (!b.instance_uuid && !b.host_name) throw badRequest('Invalid request to attach volume to an invalid target');
      await att.attachRecord(auth, id, {
        instanceId: b.instance_uuid ?? null,
        hostName: b.host_name ?? null,
        mountpoint: b.mountpoint,
        mode: b.mode ?? 'rw',
      });
      return accepted();
    }
    case 'os-detach':
      await att.detachRecord(auth, id, typeof v.attachment_id === 'string' ? v.attachment_id : undefined);
      return accepted();
    case 'os-begin_detaching':
      await att.markDetaching(auth, id, true);
      return accepted();
    case 'os-roll_detaching':
      await att.markDetaching(auth, id, false);
      return accepted();
    case 'os-initialize_connection': {
      if (!v.connector || typeof v.connector !== 'object')
        throw badRequest("Invalid input received: 'connector' is a required property");
      const vol = await svc.volumes.get(auth, id);
      return {
        connection_info: {
          driver_volume_type: 'file',
          data: { format: vol.diskFormat, access_mode: vol.readonly ? 'ro' : 'rw' },
        },
      };
    }
    case 'os-terminate_connection':
      await svc.volumes.get(auth, id);
      return accepted();
    default:
      return undefined;
  }
}
