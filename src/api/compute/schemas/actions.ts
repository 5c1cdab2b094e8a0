// POST /servers/{id}/action: one key names the action, its value is the action's argument (after Nova's
// schemas/{reboot,rebuild,lock_server,shelve,create_backup,servers,migrate_server,...}.py). One schema holds every
// action as an optional property, so Fastify validates the argument of the action the body names; the body must
// name exactly one. Actions the schema does not list reach the handler, which answers "no such action".
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
} from './common.js';
import type { FieldVersions } from './versions.js';

/** Actions without an argument: Nova's clients send null; an object is tolerated, as Nova's unvalidated ones do. */
const NoArg = Nullable(Type.Object({}));
const obj = <T extends Parameters<typeof Type.Object>[0]>(props: T) =>
  Type.Object(props, { additionalProperties: false });
const Flavor = Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Integer({ minimum: 0 })]);
const AnyHost = Nullable(Type.String({ minLength: 1, maxLength: 255 }));

const Rebuild = obj({
  imageRef: Type.String({ minLength: 1, maxLength: 255 }),
  name: Type.Optional(Name),
  adminPass: Type.Optional(Type.String({ maxLength: 255 })),
  metadata: Type.Optional(Metadata),
  preserve_ephemeral: Type.Optional(BoolLike),
  'OS-DCF:diskConfig': Type.Optional(DiskConfig),
  accessIPv4: Type.Optional(Nullable(Type.Union([Type.Literal(''), Type.String({ pattern: IPV4_PATTERN })]))),
  accessIPv6: Type.Optional(Nullable(Type.String({ maxLength: 45 }))),
  personality: Type.Optional(Type.Array(obj({ path: Type.String({ maxLength: 255 }), contents: Type.String() }))),
  description: Type.Optional(Description),
  key_name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 255 }))),
  user_data: Type.Optional(Nullable(Type.String())), // size and base64 checked by the service, with Nova's message
  trusted_image_certificates: Type.Optional(
    Nullable(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { minItems: 1, maxItems: 50 })),
  ),
  hostname: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: HOSTNAME_PATTERN })),
});

const ImageCreate = obj({ name: Name, metadata: Type.Optional(Metadata) });
const BackupCreate = obj({
  name: Name,
  backup_type: Type.String({ minLength: 1, maxLength: 255 }),
  rotation: IntLike({ minimum: 0 }),
  metadata: Type.Optional(Metadata),
});
const ConsoleType = obj({ type: Type.String({ minLength: 1, maxLength: 255 }) });

export const ServerActionBody = Type.Object(
  {
    pause: Type.Optional(NoArg),
    unpause: Type.Optional(NoArg),
    suspend: Type.Optional(NoArg),
    resume: Type.Optional(NoArg),
    'os-stop': Type.Optional(NoArg),
    'os-start': Type.Optional(NoArg),
    unlock: Type.Optional(NoArg),
    shelve: Type.Optional(NoArg),
    shelveOffload: Type.Optional(NoArg),
    confirmResize: Type.Optional(NoArg),
    revertResize: Type.Optional(NoArg),
    unrescue: Type.Optional(NoArg),
    forceDelete: Type.Optional(NoArg),
    restore: Type.Optional(NoArg),
    trigger_crash_dump: Type.Optional(NoArg),
    reboot: Type.Optional(
      obj({ type: Type.Union(['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'].map((x) => Type.Literal(x))) }),
    ),
    rebuild: Type.Optional(Rebuild),
    lock: Type.Optional(Nullable(obj({ locked_reason: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }))),
    unshelve: Type.Optional(
      Nullable(
        obj({
          availability_zone: Type.Optional(AnyHost),
          host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
        }),
      ),
    ),
    createImage: Type.Optional(ImageCreate),
    createBackup: Type.Optional(BackupCreate),
    resize: Type.Optional(obj({ flavorRef: Flavor, 'OS-DCF:diskConfig': Type.Optional(DiskConfig) })),
    migrate: Type.Optional(Nullable(obj({ host: Type.Optional(AnyHost) }))),
    'os-migrateLive': Type.Optional(
      obj({
        host: AnyHost,
        block_migration: Type.Optional(Type.Union([BoolLike, Type.Literal('auto')])),
        disk_over_commit: Type.Optional(BoolLike),
        force: Type.Optional(BoolLike),
      }),
    ),
    'os-resetState': Type.Optional(obj({ state: Type.Union([Type.Literal('active'), Type.Literal('error')]) })),
    rescue: Type.Optional(
      Nullable(
        obj({
          adminPass: Type.Optional(Type.String({ maxLength: 255 })),
          rescue_image_ref: Type.Optional(Type.String({ maxLength: 255 })),
        }),
      ),
    ),
    'os-getConsoleOutput': Type.Optional(Nullable(obj({ length: Type.Optional(Nullable(IntLike({ minimum: -1 }))) }))),
    'os-getVNCConsole': Type.Optional(ConsoleType),
    'os-getSPICEConsole': Type.Optional(ConsoleType),
    'os-getRDPConsole': Type.Optional(ConsoleType),
    'os-getSerialConsole': Type.Optional(ConsoleType),
    changePassword: Type.Optional(obj({ adminPass: Type.String({ maxLength: 255 }) })),
    addSecurityGroup: Type.Optional(obj({ name: Type.String({ minLength: 1, maxLength: 255 }) })),
    removeSecurityGroup: Type.Optional(obj({ name: Type.String({ minLength: 1, maxLength: 255 }) })),
    addFloatingIp: Type.Optional(
      obj({
        address: Type.String({ minLength: 1, maxLength: 45 }),
        fixed_address: Type.Optional(Type.String({ maxLength: 45 })),
      }),
    ),
    removeFloatingIp: Type.Optional(obj({ address: Type.String({ minLength: 1, maxLength: 45 }) })),
  },
  { additionalProperties: true, minProperties: 1, maxProperties: 1 },
);
export type ServerActionBody = Static<typeof ServerActionBody>;

export const serverActionVersions: FieldVersions = {
  since: {
    'rebuild.description': '2.19',
    'rebuild.key_name': '2.54',
    'rebuild.user_data': '2.57',
    'rebuild.trusted_image_certificates': '2.63',
    'rebuild.hostname': '2.90',
    'lock.locked_reason': '2.73',
    'unshelve.availability_zone': '2.77',
    'unshelve.host': '2.91',
    'migrate.host': '2.56',
    'os-migrateLive.force': '2.30',
  },
  removedIn: {
    'rebuild.personality': '2.57',
    'os-migrateLive.disk_over_commit': '2.25',
    'os-migrateLive.force': '2.68',
  },
};
