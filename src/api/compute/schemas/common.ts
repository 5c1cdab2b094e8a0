// Nova's parameter types (nova/api/openstack/compute/schemas/parameter_types.py) as TypeBox schemas, and the small
// converters that turn a validated value into the typed value a service takes. Nova's schemas accept some loose
// forms (integers as digit strings, booleans as words); the schema admits exactly those, the converter maps them.
import { Type, type TSchema } from '@sinclair/typebox';

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$';
export const Uuid = Type.String({ pattern: UUID_PATTERN });
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** A name: 1-255 characters, not only whitespace (Nova: "Name must not be blank"). */
export const Name = Type.String({ minLength: 1, maxLength: 255, pattern: '\\S' });
export const Description = Nullable(Type.String({ maxLength: 255 }));
/** Flavor descriptions are longer (Nova: 65535). */
export const LongDescription = Nullable(Type.String({ maxLength: 65535 }));

/** A string-to-string map with Nova's limits (metadata): keys 1-255, values at most 255. */
export const Metadata = Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.String({ maxLength: 255 }));
/** `{"meta": {key: value}}`: exactly one item. */
export const MetaItem = Type.Object(
  {
    meta: Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.String({ maxLength: 255 }), {
      minProperties: 1,
      maxProperties: 1,
    }),
  },
  { additionalProperties: false },
);
export const MetadataBody = Type.Object({ metadata: Metadata }, { additionalProperties: false });

/**
 * An integer, or a digit string (Nova's positive_integer / non_negative_integer take both). A string has at most
 * nine digits, so its value stays inside the 32-bit columns without a second range check.
 */
export const IntLike = (opts: { minimum: number; maximum?: number }) =>
  Type.Union([
    Type.Integer({ minimum: opts.minimum, maximum: opts.maximum ?? 2147483647 }),
    Type.String({
      pattern:
        opts.minimum === -1
          ? '^\\s*(-1|[0-9]{1,9})\\s*$'
          : opts.minimum > 0
            ? '^\\s*0*[1-9][0-9]{0,8}\\s*$'
            : '^\\s*[0-9]{1,9}\\s*$',
    }),
  ]);

const BOOL_WORDS = [
  'True',
  'TRUE',
  'true',
  '1',
  'ON',
  'On',
  'on',
  'YES',
  'Yes',
  'yes',
  't',
  'T',
  'y',
  'Y',
  'False',
  'FALSE',
  'false',
  '0',
  'OFF',
  'Off',
  'off',
  'NO',
  'No',
  'no',
  'f',
  'F',
  'n',
  'N',
];
/** Nova's boolean: true/false or one of oslo's words. */
export const BoolLike = Type.Union([Type.Boolean(), Type.Unsafe<string>({ type: 'string', enum: BOOL_WORDS })]);

/** An IPv4 address in dotted-quad form. */
export const IPV4_PATTERN = '^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$';
/** A host name (RFC 1123 labels). */
export const HOSTNAME_PATTERN =
  '^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$';
/** A server tag: 1-60 characters, no '/' or ','. */
export const Tag = Type.String({ minLength: 1, maxLength: 60, pattern: '^[^,/]*$' });
export const DiskConfig = Type.Union([Type.Literal('AUTO'), Type.Literal('MANUAL')]);

/** `{ key: inner }`, nothing else at the top. */
export const wrap = <K extends string, T extends TSchema>(key: K, inner: T) =>
  Type.Object({ [key]: inner } as { [P in K]: T }, { additionalProperties: false });

/** The value of a validated BoolLike. */
export function toBool(v: boolean | string): boolean;
export function toBool(v: boolean | string | undefined | null): boolean | undefined;
export function toBool(v: boolean | string | undefined | null): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'boolean' ? v : ['true', '1', 'on', 'yes', 't', 'y'].includes(v.toLowerCase());
}

/** The value of a validated IntLike. */
export function toInt(v: number | string): number;
export function toInt(v: number | string | undefined | null): number | undefined;
export function toInt(v: number | string | undefined | null): number | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'number' ? v : Number(v.trim());
}
