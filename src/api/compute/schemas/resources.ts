// Request bodies of the compute API's other resources (after nova/api/openstack/compute/schemas/{flavor_manage,
// flavors_extraspecs,flavor_access,keypairs,quota_sets,quota_classes,aggregates,server_groups,services,hosts,
// server_external_events,security_groups,floating_ips,image_metadata}.py).
import { Type, type Static } from '@sinclair/typebox';
import { BoolLike, IntLike, LongDescription, Name, Nullable, Uuid, wrap } from './common.js';
import type { FieldVersions } from './versions.js';

const Int32 = (minimum: number) => IntLike({ minimum, maximum: 2147483647 });

export const FlavorCreateBody = wrap(
  'flavor',
  Type.Object(
    {
      name: Name,
      ram: Int32(1),
      vcpus: Int32(1),
      disk: Int32(0),
      id: Type.Optional(
        Nullable(
          Type.Union([
            Type.String({ minLength: 1, maxLength: 255, pattern: '^(?! )[a-zA-Z0-9. _-]+(?<! )$' }),
            Type.Integer({ minimum: 0 }),
          ]),
        ),
      ),
      'OS-FLV-EXT-DATA:ephemeral': Type.Optional(Int32(0)),
      swap: Type.Optional(Int32(0)),
      rxtx_factor: Type.Optional(
        Type.Union([
          Type.Number({ exclusiveMinimum: 0, maximum: 3.40282e38 }),
          Type.String({ pattern: '^[0-9]*\\.?[0-9]+$', maxLength: 40 }),
        ]),
      ),
      'os-flavor-access:is_public': Type.Optional(BoolLike),
      description: Type.Optional(LongDescription),
    },
    { additionalProperties: false },
  ),
);
export type FlavorCreateBody = Static<typeof FlavorCreateBody>;
export const flavorCreateVersions: FieldVersions = { since: { 'flavor.description': '2.55' } };

export const FlavorUpdateBody = wrap(
  'flavor',
  Type.Object({ description: LongDescription }, { additionalProperties: false }),
);
export type FlavorUpdateBody = Static<typeof FlavorUpdateBody>;

/**
 * Extra specs: keys 1-255 of Nova's characters, values strings (numbers and booleans as Nova's legacy clients send).
 */
const SpecValue = Type.Union([Type.String({ maxLength: 255 }), Type.Number(), Type.Boolean()]);
const SpecKey = Type.String({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-_:. /]+$' });
export const ExtraSpecsBody = Type.Object(
  { extra_specs: Type.Record(SpecKey, SpecValue) },
  { additionalProperties: false },
);
export type ExtraSpecsBody = Static<typeof ExtraSpecsBody>;
/** PUT /os-extra_specs/{key}: exactly one key (the URL's). */
export const ExtraSpecItemBody = Type.Record(SpecKey, SpecValue, { minProperties: 1, maxProperties: 1 });
export type ExtraSpecItemBody = Static<typeof ExtraSpecItemBody>;

const Tenant = Type.Object(
  { tenant: Type.String({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-_]*$' }) },
  { additionalProperties: false },
);
export const FlavorActionBody = Type.Object(
  {
    addTenantAccess: Type.Optional(Tenant),
    removeTenantAccess: Type.Optional(Tenant),
  },
  { additionalProperties: false, minProperties: 1, maxProperties: 1 },
);
export type FlavorActionBody = Static<typeof FlavorActionBody>;

export const KeypairCreateBody = wrap(
  'keypair',
  Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 255 }),
      public_key: Type.Optional(Type.String({ maxLength: 65535 })),
      type: Type.Optional(Type.Union([Type.Literal('ssh'), Type.Literal('x509')])),
      user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    },
    { additionalProperties: false },
  ),
);
export type KeypairCreateBody = Static<typeof KeypairCreateBody>;
export const keypairCreateVersions: FieldVersions = {
  since: { 'keypair.type': '2.2', 'keypair.user_id': '2.10' },
  requiredSince: { 'keypair.public_key': '2.92' },
};

/** A quota limit: -1 (unlimited) or a count; which resources a version has is checked by the handler's list. */
const Limit = IntLike({ minimum: -1 });
export const QuotaSetBody = wrap(
  'quota_set',
  Type.Object({ force: Type.Optional(BoolLike) }, { additionalProperties: Limit }),
);
export type QuotaSetBody = Static<typeof QuotaSetBody>;
export const QuotaClassSetBody = wrap(
  'quota_class_set',
  Type.Record(Type.String({ maxLength: 255 }), Type.Integer({ minimum: -1, maximum: 2147483647 })),
);
export type QuotaClassSetBody = Static<typeof QuotaClassSetBody>;

const AzName = Nullable(Type.String({ minLength: 1, maxLength: 255 }));
export const AggregateCreateBody = wrap(
  'aggregate',
  Type.Object({ name: Name, availability_zone: Type.Optional(AzName) }, { additionalProperties: false }),
);
export type AggregateCreateBody = Static<typeof AggregateCreateBody>;
export const AggregateUpdateBody = wrap(
  'aggregate',
  Type.Object(
    { name: Type.Optional(Name), availability_zone: Type.Optional(AzName) },
    { additionalProperties: false, minProperties: 1 },
  ),
);
export type AggregateUpdateBody = Static<typeof AggregateUpdateBody>;
const HostArg = Type.Object({ host: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false });
export const AggregateActionBody = Type.Object(
  {
    add_host: Type.Optional(HostArg),
    remove_host: Type.Optional(HostArg),
    set_metadata: Type.Optional(
      Type.Object(
        {
          metadata: Type.Record(
            Type.String({ minLength: 1, maxLength: 255 }),
            Nullable(Type.String({ maxLength: 255 })),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, minProperties: 1, maxProperties: 1 },
);
export type AggregateActionBody = Static<typeof AggregateActionBody>;

const GROUP_POLICIES = ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity'];
export const ServerGroupCreateBody = wrap(
  'server_group',
  Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 255, pattern: '^(?!\\s)[\\s\\S]*(?<!\\s)$' }),
      policies: Type.Optional(
        Type.Array(Type.Union(GROUP_POLICIES.map((p) => Type.Literal(p))), { minItems: 1, maxItems: 1 }),
      ),
      policy: Type.Optional(Type.Union(GROUP_POLICIES.map((p) => Type.Literal(p)))),
      rules: Type.Optional(
        Type.Object({ max_server_per_host: Type.Optional(IntLike({ minimum: 1 })) }, { additionalProperties: false }),
      ),
    },
    { additionalProperties: false },
  ),
);
export type ServerGroupCreateBody = Static<typeof ServerGroupCreateBody>;
export const serverGroupCreateVersions: FieldVersions = {
  since: { 'server_group.policy': '2.64', 'server_group.rules': '2.64' },
  removedIn: { 'server_group.policies': '2.64' },
  requiredSince: { 'server_group.policy': '2.64' },
  requiredUntil: { 'server_group.policies': '2.64' },
};

/** PUT /os-services/{id}: before 2.53 the id is an action and the body names the service; from 2.53 a status. */
export const ServiceUpdateBody = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    binary: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    status: Type.Optional(Type.Union([Type.Literal('enabled'), Type.Literal('disabled')])),
    disabled_reason: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    forced_down: Type.Optional(BoolLike),
  },
  { additionalProperties: false },
);
export type ServiceUpdateBody = Static<typeof ServiceUpdateBody>;
export const serviceUpdateVersions: FieldVersions = {
  since: { status: '2.53', forced_down: '2.11' },
  removedIn: { host: '2.53', binary: '2.53' },
};

const EnableWord = Type.Unsafe<string>({
  type: 'string',
  enum: ['enable', 'disable', 'Enable', 'Disable', 'ENABLE', 'DISABLE'],
});
export const HostUpdateBody = Type.Object(
  {
    status: Type.Optional(EnableWord),
    maintenance_mode: Type.Optional(EnableWord),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type HostUpdateBody = Static<typeof HostUpdateBody>;

export const ExternalEventsBody = Type.Object(
  {
    events: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 255 }),
          server_uuid: Uuid,
          status: Type.Optional(
            Type.Union([Type.Literal('failed'), Type.Literal('completed'), Type.Literal('in-progress')]),
          ),
          tag: Type.Optional(Type.String({ maxLength: 255 })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);
export type ExternalEventsBody = Static<typeof ExternalEventsBody>;

export const SecurityGroupBody = wrap(
  'security_group',
  Type.Object(
    {
      name: Type.String({ maxLength: 255 }),
      description: Type.String({ maxLength: 255 }),
    },
    { additionalProperties: true },
  ),
);
export type SecurityGroupBody = Static<typeof SecurityGroupBody>;

/** Nova's legacy rule body has no schema; the proxy service checks each value with Nova's own messages. */
const Loose = Nullable(Type.Union([Type.String({ maxLength: 255 }), Type.Integer()]));
export const SecurityGroupRuleBody = wrap(
  'security_group_rule',
  Type.Object(
    {
      parent_group_id: Type.Union([Type.String({ maxLength: 255 }), Type.Integer()]),
      group_id: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
      ip_protocol: Type.Optional(Loose),
      from_port: Type.Optional(Loose),
      to_port: Type.Optional(Loose),
      cidr: Type.Optional(Loose),
    },
    { additionalProperties: true },
  ),
);
export type SecurityGroupRuleBody = Static<typeof SecurityGroupRuleBody>;

export const FloatingIpCreateBody = Nullable(
  Type.Object({ pool: Type.Optional(Nullable(Type.String({ maxLength: 255 }))) }, { additionalProperties: true }),
);
export type FloatingIpCreateBody = Static<typeof FloatingIpCreateBody>;
