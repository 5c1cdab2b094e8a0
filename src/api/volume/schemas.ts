// TypeBox schemas of Cinder request bodies (after cinder/api/schemas/*.py: sizes may be integers or digit strings,
// names up to 255 characters, metadata string → string).
import { Type, type TSchema } from '@sinclair/typebox';
import { badRequest } from '../../errors.js';

export const Name = Type.Union([Type.String({ maxLength: 255 }), Type.Null()]);
export const Description = Type.Union([Type.String({ maxLength: 255 }), Type.Null()]);
export const Metadata = Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.String({ maxLength: 255 }));
/** A size in GiB: Cinder takes 1 and "1". */
export const Size = Type.Union([
  Type.Integer({ minimum: 1, maximum: 2147483647 }),
  Type.String({ pattern: '^0*[1-9][0-9]*$', maxLength: 10 }),
]);
const Uuidish = Type.String({ minLength: 1, maxLength: 255 });
const Bool = Type.Union([Type.Boolean(), Type.String({ maxLength: 16 })]);

/** `{ key: body }`, the key required. */
export const wrap = <K extends string, T extends TSchema>(key: K, body: T) =>
  Type.Object({ [key]: body } as { [P in K]: T }, { additionalProperties: true });

export const VolumeCreate = wrap(
  'volume',
  Type.Object(
    {
      size: Type.Optional(Type.Union([Size, Type.Null()])),
      name: Type.Optional(Name),
      display_name: Type.Optional(Name),
      description: Type.Optional(Description),
      display_description: Type.Optional(Description),
      volume_type: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
      availability_zone: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
      snapshot_id: Type.Optional(Type.Union([Uuidish, Type.Null()])),
      source_volid: Type.Optional(Type.Union([Uuidish, Type.Null()])),
      imageRef: Type.Optional(Type.Union([Uuidish, Type.Null()])),
      image_id: Type.Optional(Type.Union([Uuidish, Type.Null()])),
      backup_id: Type.Optional(Type.Union([Uuidish, Type.Null()])),
      metadata: Type.Optional(Metadata),
      multiattach: Type.Optional(Bool),
      consistencygroup_id: Type.Optional(Type.Union([Uuidish, Type.Null()])),
      group_id: Type.Optional(Type.Union([Uuidish, Type.Null()])),
    },
    { additionalProperties: true },
  ),
);

export const VolumeUpdate = wrap(
  'volume',
  Type.Object(
    {
      name: Type.Optional(Name),
      display_name: Type.Optional(Name),
      description: Type.Optional(Description),
      display_description: Type.Optional(Description),
      metadata: Type.Optional(Metadata),
    },
    { additionalProperties: false },
  ),
);

export const MetadataBody = Type.Object({ metadata: Metadata }, { additionalProperties: false });
export const MetaItemBody = Type.Object(
  {
    meta: Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.String({ maxLength: 255 }), {
      minProperties: 1,
      maxProperties: 1,
    }),
  },
  { additionalProperties: false },
);

/** POST /volumes/{id}/action: exactly one action key; each action's own schema is checked by its handler. */
export const ActionBody = Type.Object({}, { additionalProperties: true, minProperties: 1, maxProperties: 1 });

export const ExtendBody = Type.Object({ new_size: Size }, { additionalProperties: false });
export const BootableBody = Type.Object({ bootable: Bool }, { additionalProperties: false });
export const ReadonlyBody = Type.Object({ readonly: Bool }, { additionalProperties: false });
export const ResetStatusBody = Type.Object(
  {
    status: Type.Optional(Type.String({ maxLength: 255 })),
    attach_status: Type.Optional(Type.String({ maxLength: 255 })),
    migration_status: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: false },
);
export const RetypeBody = Type.Object(
  {
    new_type: Type.String({ minLength: 1, maxLength: 255 }),
    migration_policy: Type.Optional(Type.Union([Type.Literal('never'), Type.Literal('on-demand'), Type.Null()])),
  },
  { additionalProperties: false },
);
export const ImageMetaBody = Type.Object({ metadata: Metadata }, { additionalProperties: false });
export const UnsetImageMetaBody = Type.Object(
  { key: Type.String({ minLength: 1, maxLength: 255 }) },
  { additionalProperties: false },
);

export const SnapshotCreate = wrap(
  'snapshot',
  Type.Object(
    {
      volume_id: Type.Union([Uuidish, Type.Null()]),
      force: Type.Optional(Bool),
      name: Type.Optional(Name),
      display_name: Type.Optional(Name),
      description: Type.Optional(Description),
      display_description: Type.Optional(Description),
      metadata: Type.Optional(Metadata),
    },
    { additionalProperties: false },
  ),
);
export const SnapshotUpdate = wrap(
  'snapshot',
  Type.Object(
    {
      name: Type.Optional(Name),
      display_name: Type.Optional(Name),
      description: Type.Optional(Description),
      display_description: Type.Optional(Description),
    },
    { additionalProperties: false, minProperties: 1 },
  ),
);

export const TypeCreate = wrap(
  'volume_type',
  Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 255, pattern: '\\S' }),
      description: Type.Optional(Description),
      'os-volume-type-access:is_public': Type.Optional(Bool),
      is_public: Type.Optional(Bool),
      extra_specs: Type.Optional(Metadata),
    },
    { additionalProperties: false },
  ),
);
export const TypeUpdate = wrap(
  'volume_type',
  Type.Object(
    {
      name: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 255, pattern: '\\S' }), Type.Null()])),
      description: Type.Optional(Description),
      is_public: Type.Optional(Bool),
    },
    { additionalProperties: false },
  ),
);
export const ExtraSpecsBody = Type.Object({ extra_specs: Metadata }, { additionalProperties: false });
export const TypeActionBody = Type.Object({}, { additionalProperties: true, minProperties: 1, maxProperties: 1 });

export const QuotaSetBody = wrap(
  'quota_set',
  Type.Record(Type.String(), Type.Union([Type.Integer(), Type.String({ pattern: '^-?[0-9]+$' })])),
);

/** Cinder's boolean strings (oslo's strict bool_from_string); anything else is a 400 naming the field. */
export function boolOf(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['true', 't', 'yes', 'y', 'on', '1'].includes(s)) return true;
  if (['false', 'f', 'no', 'n', 'off', '0'].includes(s)) return false;
  throw badRequest(
    `Invalid input for field/attribute ${field}. Value: ${String(v)}. ${String(v)} is not a valid boolean.`,
  );
}

export const TransferCreate = wrap(
  'transfer',
  Type.Object(
    {
      volume_id: Uuidish,
      name: Type.Optional(Name),
      no_snapshots: Type.Optional(Bool),
    },
    { additionalProperties: false },
  ),
);
export const TransferAccept = wrap(
  'accept',
  Type.Object({ auth_key: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false }),
);

export const BackupCreate = wrap(
  'backup',
  Type.Object(
    {
      volume_id: Uuidish,
      container: Type.Optional(Name),
      name: Type.Optional(Name),
      description: Type.Optional(Description),
      incremental: Type.Optional(Bool),
      force: Type.Optional(Bool),
      snapshot_id: Type.Optional(Type.Union([Uuidish, Type.Null()])),
      metadata: Type.Optional(Metadata),
      availability_zone: Type.Optional(Name),
    },
    { additionalProperties: false },
  ),
);
export const BackupUpdate = wrap(
  'backup',
  Type.Object(
    {
      name: Type.Optional(Name),
      description: Type.Optional(Description),
      metadata: Type.Optional(Metadata),
    },
    { additionalProperties: false },
  ),
);
export const BackupRestore = wrap(
  'restore',
  Type.Union([
    Type.Object(
      {
        volume_id: Type.Optional(Type.Union([Uuidish, Type.Null()])),
        name: Type.Optional(Name),
      },
      { additionalProperties: false },
    ),
    Type.Null(),
  ]),
);
export const BackupImport = wrap(
  'backup-record',
  Type.Object(
    {
      backup_service: Type.String({ minLength: 1, maxLength: 255 }),
      backup_url: Type.String({ minLength: 1 }),
    },
    { additionalProperties: false },
  ),
);

/** POST /qos-specs: the name, an optional consumer and the limits, all strings (Cinder's qos_specs_manage). */
export const QosCreate = wrap(
  'qos_specs',
  Type.Object(
    { name: Type.String({ minLength: 1, maxLength: 255 }) },
    { additionalProperties: Type.String({ maxLength: 255 }) },
  ),
);
/** PUT /qos-specs/{id}: keys to set (and `consumer`). */
export const QosUpdate = wrap(
  'qos_specs',
  Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.String({ maxLength: 255 }), { minProperties: 1 }),
);
/** PUT /qos-specs/{id}/delete_keys. */
export const QosDeleteKeys = Type.Object({
  keys: Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { minItems: 1 }),
});

/** PUT /os-services/{action}: host, binary, disabled_reason (Cinder validates them itself, with its own messages). */
export const ServiceActionBody = Type.Object({}, { additionalProperties: true });

/** PUT /os-quota-class-sets/default. */
export const QuotaClassBody = wrap(
  'quota_class_set',
  Type.Record(Type.String(), Type.Union([Type.Integer(), Type.String({ pattern: '^-?[0-9]+$' })])),
);
