// TypeBox schemas of Glance v2 request bodies (after glance/api/v2/images.py's image schema, image_members.py,
// metadefs/*.py). Glance lets an image carry any extra string property, so image bodies stay open
// (additionalProperties) with their known fields typed; the image service checks read-only and reserved names.
// (./schemas.ts is different: the JSON-schema documents Glance serves at /v2/schemas/*.)
import { Type, type Static } from '@sinclair/typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Str255 = Type.String({ maxLength: 255 });

export const ImageCreateBody = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 36 })),
    name: Type.Optional(Nullable(Str255)),
    visibility: Type.Optional(Type.Union(['public', 'private', 'shared', 'community'].map((v) => Type.Literal(v)))),
    protected: Type.Optional(Type.Boolean()),
    os_hidden: Type.Optional(Type.Boolean()),
    container_format: Type.Optional(Nullable(Str255)),
    disk_format: Type.Optional(Nullable(Str255)),
    min_disk: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647 })),
    min_ram: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647 })),
    tags: Type.Optional(Type.Array(Str255)), // how many: the image tag quota (413), checked by the service
  },
  { additionalProperties: true },
);
export type ImageCreateBody = Static<typeof ImageCreateBody>;

/** A JSON-patch document: a list of operations; their members are checked by ./patch.ts per media type. */
export const ImagePatchBody = Type.Array(Type.Object({}, { additionalProperties: true }), { maxItems: 1000 });

export const MemberCreateBody = Type.Object(
  { member: Type.String({ minLength: 1, maxLength: 255 }) },
  { additionalProperties: false },
);
export type MemberCreateBody = Static<typeof MemberCreateBody>;
// Glance reads only `status` and ignores the rest: openstacksdk's PUT also carries `member` (the member's id).
export const MemberUpdateBody = Type.Object(
  {
    status: Type.Union(['pending', 'accepted', 'rejected'].map((v) => Type.Literal(v))),
  },
  { additionalProperties: true },
);
export type MemberUpdateBody = Static<typeof MemberUpdateBody>;

export const ImportBody = Type.Object(
  {
    method: Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 255 }),
        uri: Type.Optional(Type.String({ maxLength: 4096 })),
        glance_image_id: Type.Optional(Str255),
        glance_region: Type.Optional(Str255),
        glance_service_interface: Type.Optional(Str255),
      },
      { additionalProperties: false },
    ),
    stores: Type.Optional(Type.Array(Str255, { maxItems: 64 })),
    all_stores: Type.Optional(Type.Boolean()),
    all_stores_must_succeed: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ImportBody = Static<typeof ImportBody>;

// Metadata definitions: the service checks each document's rules; the schemas fix the shape and the names.
const Visibility = Type.Union([Type.Literal('public'), Type.Literal('private')]);
export const NamespaceBody = Type.Object(
  {
    namespace: Type.String({ minLength: 1, maxLength: 80 }),
    display_name: Type.Optional(Nullable(Type.String({ maxLength: 80 }))),
    description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
    visibility: Type.Optional(Visibility),
    protected: Type.Optional(Type.Boolean()),
    resource_type_associations: Type.Optional(
      Type.Array(Type.Object({ name: Str255 }, { additionalProperties: true })),
    ),
    properties: Type.Optional(Type.Record(Str255, Type.Object({}, { additionalProperties: true }))),
    objects: Type.Optional(Type.Array(Type.Object({ name: Str255 }, { additionalProperties: true }))),
    tags: Type.Optional(Type.Array(Type.Object({ name: Str255 }, { additionalProperties: true }))),
  },
  { additionalProperties: true },
);
export const ResourceTypeAssociationBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 80 }),
    prefix: Type.Optional(Type.String({ maxLength: 80 })),
    properties_target: Type.Optional(Type.String({ maxLength: 80 })),
  },
  { additionalProperties: true },
);
export const MetadefObjectBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 80 }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    required: Type.Optional(Type.Array(Str255)),
    properties: Type.Optional(Type.Record(Str255, Type.Object({}, { additionalProperties: true }))),
  },
  { additionalProperties: true },
);
export const MetadefPropertyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 80 }),
    title: Type.String({ maxLength: 255 }),
    type: Type.String({ maxLength: 32 }),
  },
  { additionalProperties: true },
);
export const MetadefTagsBody = Type.Object(
  {
    tags: Type.Array(
      Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: true }),
    ),
  },
  { additionalProperties: true },
);
export const MetadefTagBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 255 }) },
  { additionalProperties: true },
);
