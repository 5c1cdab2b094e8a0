// Request bodies of /servers and its sub-resources (after nova/api/openstack/compute/schemas/servers.py,
// server_metadata.py, server_tags.py, attach_interfaces.py). Each schema is the widest version's; the tables next
// to them say which microversion adds, removes or requires a field (./versions.ts).
import { Type, type Static } from '@sinclair/typebox';
import {
  BoolLike,
  Description,
  DiskConfig,
  HOSTNAME_PATTERN,
  IntLike,
  IPV4_PATTERN,
  Metadata,
  Name,
  Nullable,
  Tag,
  Uuid,
  wrap,
} from './common.js';
import type { FieldVersions } from './versions.js';

const Hostname = Type.String({ minLength: 1, maxLength: 255, pattern: HOSTNAME_PATTERN });
/** accessIPv4: an address, empty, or null (Nova normalises '' to null). */
const AccessIPv4 = Nullable(Type.Union([Type.Literal(''), Type.String({ pattern: IPV4_PATTERN })]));
/** accessIPv6: any text the IPv6 parser accepts; checked and normalised by the handler. */
const AccessIPv6 = Nullable(Type.String({ maxLength: 45 }));

const NetworkRequest = Type.Object(
  {
    uuid: Type.Optional(Type.String({ maxLength: 255 })),
    port: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    fixed_ip: Type.Optional(Type.String({ maxLength: 45 })),
    tag: Type.Optional(Tag),
  },
  { additionalProperties: false },
);

const DISK_BUSES = ['virtio', 'scsi', 'ide', 'usb', 'sata', 'fdc', 'xen', 'uml', 'lxc', 'sd'];
const DEVICE_TYPES = ['disk', 'cdrom', 'floppy', 'lun', 'fs'];
/** Nova's device_name: a device path or name without spaces. */
const DeviceName = Type.String({ pattern: '^[^\\s]{1,255}$' });
const OptInt = Type.Optional(Nullable(Type.Union([IntLike({ minimum: 0 }), Type.Literal('')])));
const Enum = (values: string[]) => Type.Union(values.map((x) => Type.Literal(x)));

const BlockDeviceMapping = Type.Object(
  {
    source_type: Type.Optional(Enum(['image', 'volume', 'snapshot', 'blank'])),
    destination_type: Type.Optional(Enum(['local', 'volume'])),
    /** An image, volume or snapshot id (Nova checks the id's characters, not a UUID form). */
    uuid: Type.Optional(Nullable(Type.String({ pattern: '^[a-zA-Z0-9._-]{1,255}$' }))),
    boot_index: Type.Optional(
      Nullable(
        Type.Union([
          Type.Integer({ minimum: -2147483648, maximum: 2147483647 }),
          Type.String({ pattern: '^(-?[0-9]{1,9}|none)$' }),
        ]),
      ),
    ),
    volume_size: OptInt,
    delete_on_termination: Type.Optional(Nullable(BoolLike)),
    device_name: Type.Optional(Nullable(DeviceName)),
    tag: Type.Optional(Nullable(Tag)),
    guest_format: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 255 }))),
    disk_bus: Type.Optional(Nullable(Enum(DISK_BUSES))),
    device_type: Type.Optional(Nullable(Enum(DEVICE_TYPES))),
    volume_type: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    no_device: Type.Optional(Type.Any()),
    connection_info: Type.Optional(Type.Any()),
    image_id: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    snapshot_id: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    volume_id: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    encrypted: Type.Optional(Nullable(BoolLike)),
    encryption_secret_uuid: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    encryption_format: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    encryption_options: Type.Optional(Type.Any()),
  },
  { additionalProperties: false },
);
export type BlockDeviceMappingBody = Static<typeof BlockDeviceMapping>;

/** The legacy block_device_mapping (v1): a volume or snapshot on a device name. */
const LegacyBlockDeviceMapping = Type.Object(
  {
    device_name: DeviceName,
    volume_id: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    snapshot_id: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    volume_size: OptInt,
    delete_on_termination: Type.Optional(Nullable(BoolLike)),
    no_device: Type.Optional(Type.Any()),
    virtual_name: Type.Optional(Type.Any()),
    connection_info: Type.Optional(Type.Any()),
  },
  { additionalProperties: false },
);
export type LegacyBlockDeviceMappingBody = Static<typeof LegacyBlockDeviceMapping>;

const SchedulerHints = Type.Object(
  {
    group: Type.Optional(Uuid),
  },
  { additionalProperties: true },
);

export const ServerCreateBody = Type.Object(
  {
    server: Type.Object(
      {
        name: Name,
        imageRef: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
        flavorRef: Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Integer({ minimum: 0 })]),
        networks: Type.Optional(Type.Union([Type.Array(NetworkRequest), Type.Literal('auto'), Type.Literal('none')])),
        key_name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 255 }))),
        // Size and base64 are checked by the service, with Nova's message.
        user_data: Type.Optional(Nullable(Type.String())),
        metadata: Type.Optional(Metadata),
        security_groups: Type.Optional(
          Type.Array(
            Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false }),
          ),
        ),
        availability_zone: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 255 }))),
        config_drive: Type.Optional(Nullable(Type.Union([BoolLike, Type.Literal('')]))),
        min_count: Type.Optional(IntLike({ minimum: 1 })),
        max_count: Type.Optional(IntLike({ minimum: 1 })),
        return_reservation_id: Type.Optional(BoolLike),
        description: Type.Optional(Description),
        hostname: Type.Optional(Hostname),
        block_device_mapping_v2: Type.Optional(Type.Array(BlockDeviceMapping)),
        block_device_mapping: Type.Optional(Type.Array(LegacyBlockDeviceMapping)),
        accessIPv4: Type.Optional(AccessIPv4),
        accessIPv6: Type.Optional(AccessIPv6),
        adminPass: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
        personality: Type.Optional(
          Type.Array(
            Type.Object(
              { path: Type.String({ maxLength: 255 }), contents: Type.String() },
              { additionalProperties: false },
            ),
          ),
        ),
        'OS-DCF:diskConfig': Type.Optional(DiskConfig),
        tags: Type.Optional(Type.Array(Tag, { maxItems: 50 })),
        trusted_image_certificates: Type.Optional(
          Nullable(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { minItems: 1, maxItems: 50 })),
        ),
        host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
        hypervisor_hostname: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
      },
      { additionalProperties: false },
    ),
    'os:scheduler_hints': Type.Optional(SchedulerHints),
    'OS-SCH-HNT:scheduler_hints': Type.Optional(SchedulerHints),
  },
  { additionalProperties: false },
);
export type ServerCreateBody = Static<typeof ServerCreateBody>;

export const serverCreateVersions: FieldVersions = {
  since: {
    'server.description': '2.19',
    'server.tags': '2.52',
    'server.hostname': '2.90',
    'server.host': '2.74',
    'server.hypervisor_hostname': '2.74',
    'server.networks[].tag': '2.32',
    'server.block_device_mapping_v2[].tag': '2.42',
    'server.block_device_mapping_v2[].volume_type': '2.67',
    'server.trusted_image_certificates': '2.63',
  },
  removedIn: { 'server.personality': '2.57' },
  requiredSince: { 'server.networks': '2.37' },
};

export const ServerUpdateBody = wrap(
  'server',
  Type.Object(
    {
      name: Type.Optional(Name),
      accessIPv4: Type.Optional(AccessIPv4),
      accessIPv6: Type.Optional(AccessIPv6),
      'OS-DCF:diskConfig': Type.Optional(DiskConfig),
      description: Type.Optional(Description),
      hostname: Type.Optional(Hostname),
    },
    { additionalProperties: false },
  ),
);
export type ServerUpdateBody = Static<typeof ServerUpdateBody>;
export const serverUpdateVersions: FieldVersions = {
  since: { 'server.description': '2.19', 'server.hostname': '2.90' },
};

export const TagsBody = Type.Object({ tags: Type.Array(Tag, { maxItems: 50 }) }, { additionalProperties: false });

export const InterfaceAttachBody = Type.Object(
  {
    interfaceAttachment: Type.Optional(
      Type.Object(
        {
          net_id: Type.Optional(Uuid),
          port_id: Type.Optional(Uuid),
          fixed_ips: Type.Optional(
            Type.Array(Type.Object({ ip_address: Type.String({ maxLength: 45 }) }, { additionalProperties: false }), {
              maxItems: 1,
            }),
          ),
          tag: Type.Optional(Tag),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type InterfaceAttachBody = Static<typeof InterfaceAttachBody>;
export const interfaceAttachVersions: FieldVersions = { since: { 'interfaceAttachment.tag': '2.49' } };

export const RemoteConsoleBody = wrap(
  'remote_console',
  Type.Object(
    {
      protocol: Type.Union(['vnc', 'spice', 'serial', 'rdp', 'mks'].map((x) => Type.Literal(x))),
      type: Type.Union(['novnc', 'xvpvnc', 'spice-html5', 'serial', 'rdp-html5', 'webmks'].map((x) => Type.Literal(x))),
    },
    { additionalProperties: false },
  ),
);
export type RemoteConsoleBody = Static<typeof RemoteConsoleBody>;
