// GET /v2/schemas/*: the JSON schemas Glance publishes for its resources (written for Gureum's attributes).
import { CONTAINER_FORMATS, DISK_FORMATS } from '../../services/image/index.js';

const nullable = (type: string) => ['null', type];
const ro = (description: string, type: unknown, extra: Record<string, unknown> = {}) => ({
  description,
  readOnly: true,
  type,
  ...extra,
});

/** The image schema: core attributes plus free-form string properties. */
export function imageSchema(): Record<string, unknown> {
  return {
    name: 'image',
    additionalProperties: { type: 'string' },
    links: [
      { href: '{self}', rel: 'self' },
      { href: '{file}', rel: 'enclosure' },
      { href: '{schema}', rel: 'describedby' },
    ],
    properties: {
      id: {
        description: 'An identifier for the image',
        pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
        type: 'string',
      },
      name: { description: 'Descriptive name for the image', maxLength: 255, type: nullable('string') },
      status: ro('Status of the image', 'string', {
        enum: [
          'queued',
          'saving',
          'active',
          'killed',
          'deleted',
          'uploading',
          'importing',
          'pending_delete',
          'deactivated',
        ],
      }),
      visibility: {
        description: 'Scope of image accessibility',
        enum: ['community', 'public', 'private', 'shared'],
        type: 'string',
      },
      protected: { description: 'If true, image will not be deletable.', type: 'boolean' },
      os_hidden: { description: 'If true, image will not appear in default image list response.', type: 'boolean' },
      checksum: ro('md5 hash of image contents.', nullable('string'), { maxLength: 32 }),
      os_hash_algo: ro('Algorithm to calculate the os_hash_value', nullable('string'), { maxLength: 64 }),
      os_hash_value: ro(
        'Hexdigest of the image contents using the algorithm specified by the os_hash_algo',
        nullable('string'),
        { maxLength: 128 },
      ),
      owner: { description: 'Owner of the image', maxLength: 255, type: nullable('string') },
      size: ro('Size of image file in bytes', nullable('integer')),
      virtual_size: ro('Virtual size of image in bytes', nullable('integer')),
      container_format: {
        description: 'Format of the container',
        enum: [null, ...CONTAINER_FORMATS],
        type: nullable('string'),
      },
      disk_format: { description: 'Format of the disk', enum: [null, ...DISK_FORMATS], type: nullable('string') },
      created_at: ro('Date and time of image registration', 'string'),
      updated_at: ro('Date and time of the last image modification', 'string'),
      tags: {
        description: 'List of strings related to the image',
        items: { maxLength: 255, type: 'string' },
        type: 'array',
      },
      direct_url: ro('URL to access the image file kept in external store', 'string'),
      min_ram: { description: 'Amount of ram (in MB) required to boot image.', type: 'integer' },
      min_disk: { description: 'Amount of disk space (in GB) required to boot image.', type: 'integer' },
      self: ro('An image self url', 'string'),
      file: ro('An image file url', 'string'),
      stores: ro(
        'Store in which image data resides.  Only present when the operator has enabled multiple stores.',
        'string',
      ),
      schema: ro('An image schema url', 'string'),
      locations: {
        description: 'A set of URLs to access the image file kept in external store',
        type: 'array',
        items: {
          type: 'object',
          required: ['url', 'metadata'],
          properties: { url: { type: 'string', maxLength: 255 }, metadata: { type: 'object' } },
        },
      },
      architecture: { description: 'Operating system architecture', is_base: false, type: 'string' },
      os_distro: { description: 'Common name of operating system distribution', is_base: false, type: 'string' },
      os_version: {
        description: 'Operating system version as specified by the distributor',
        is_base: false,
        type: 'string',
      },
      kernel_id: {
        description: 'ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.',
        is_base: false,
        type: nullable('string'),
      },
      ramdisk_id: {
        description: 'ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.',
        is_base: false,
        type: nullable('string'),
      },
      instance_uuid: {
        description: 'Metadata which can be used to record which instance this image is associated with.',
        is_base: false,
        type: 'string',
      },
    },
  };
}

function collection(name: string, item: Record<string, unknown>, key: string): Record<string, unknown> {
  return {
    name,
    links: [
      { href: '{first}', rel: 'first' },
      { href: '{next}', rel: 'next' },
      { href: '{schema}', rel: 'describedby' },
    ],
    properties: {
      first: { type: 'string' },
      next: { type: 'string' },
      schema: { type: 'string' },
      [key]: { type: 'array', items: item },
    },
  };
}

export function imagesSchema(): Record<string, unknown> {
  return collection('images', imageSchema(), 'images');
}

export function memberSchema(): Record<string, unknown> {
  return {
    name: 'member',
    properties: {
      created_at: { description: 'Date and time of image member creation', type: 'string' },
      image_id: { description: 'An identifier for the image', type: 'string' },
      member_id: { description: 'An identifier for the image member (tenantId)', type: 'string' },
      schema: { readOnly: true, type: 'string' },
      status: {
        description: 'The status of this image member',
        enum: ['pending', 'accepted', 'rejected'],
        type: 'string',
      },
      updated_at: { description: 'Date and time of last modification of image member', type: 'string' },
    },
  };
}

export function membersSchema(): Record<string, unknown> {
  return {
    name: 'members',
    links: [{ href: '{schema}', rel: 'describedby' }],
    properties: { members: { type: 'array', items: memberSchema() }, schema: { type: 'string' } },
  };
}

const stamp = {
  created_at: { type: 'string', readOnly: true, format: 'date-time' },
  updated_at: { type: 'string', readOnly: true, format: 'date-time' },
};

const propertyDef = {
  type: 'object',
  required: ['title', 'type'],
  properties: {
    name: { type: 'string', maxLength: 255 },
    title: { type: 'string' },
    description: { type: 'string' },
    operators: { type: 'array', items: { type: 'string' } },
    type: { type: 'string', enum: ['array', 'boolean', 'integer', 'number', 'object', 'string', null] },
    required: { type: 'array', items: { type: 'string' } },
    minimum: { type: 'number' },
    maximum: { type: 'number' },
    maxLength: { type: 'integer' },
    minLength: { type: 'integer' },
    pattern: { type: 'string', format: 'regex' },
    enum: { type: 'array' },
    readonly: { type: 'boolean' },
    default: {},
    items: { type: 'object' },
    maxItems: { type: 'integer' },
    minItems: { type: 'integer' },
    uniqueItems: { type: 'boolean', default: false },
    additionalItems: { type: 'boolean' },
  },
};

const metadef: Record<string, () => Record<string, unknown>> = {
  namespace: () => ({
    name: 'namespace',
    additionalProperties: false,
    required: ['namespace'],
    properties: {
      namespace: { type: 'string', maxLength: 80, description: 'The unique namespace text.' },
      display_name: { type: 'string', maxLength: 80 },
      description: { type: 'string', maxLength: 500 },
      visibility: { type: 'string', enum: ['public', 'private'] },
      protected: { type: 'boolean' },
      owner: { type: 'string', maxLength: 255 },
      ...stamp,
      schema: { type: 'string', readOnly: true },
      self: { type: 'string', readOnly: true },
      resource_type_associations: {
        type: 'array',
        items: {
          type: 'object',
          properties: { name: { type: 'string' }, prefix: { type: 'string' }, properties_target: { type: 'string' } },
        },
      },
      properties: { type: 'object', additionalProperties: propertyDef },
      objects: { type: 'array' },
      tags: { type: 'array' },
    },
  }),
  resource_type: () => ({
    name: 'resource_type_association',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', maxLength: 80 },
      prefix: { type: 'string', maxLength: 80 },
      properties_target: { type: 'string', maxLength: 80 },
      ...stamp,
    },
  }),
  object: () => ({
    name: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', maxLength: 80 },
      description: { type: 'string' },
      required: { type: 'array', items: { type: 'string' } },
      properties: { type: 'object', additionalProperties: propertyDef },
      schema: { type: 'string', readOnly: true },
      self: { type: 'string', readOnly: true },
      ...stamp,
    },
  }),
  property: () => ({
    name: 'property',
    ...propertyDef,
    properties: { ...propertyDef.properties, name: { type: 'string', maxLength: 80 } },
    required: ['name', 'title', 'type'],
  }),
  tag: () => ({
    name: 'tag',
    additionalProperties: false,
    required: ['name'],
    properties: { name: { type: 'string', maxLength: 255 }, ...stamp },
  }),
};

/** The metadefs schemas by path ("namespace", "namespaces", "resource_type", ...), or undefined. */
export function metadefSchema(path: string): Record<string, unknown> | undefined {
  const single = metadef[path];
  if (single) return single();
  const plural: Record<string, [string, string, string]> = {
    namespaces: ['namespaces', 'namespace', 'namespaces'],
    resource_types: ['resource_type_associations', 'resource_type', 'resource_type_associations'],
    objects: ['objects', 'object', 'objects'],
    properties: ['properties', 'property', 'properties'],
    tags: ['tags', 'tag', 'tags'],
  };
  const p = plural[path];
  if (!p) return undefined;
  return collection(p[0], metadef[p[1]]!(), p[2]);
}
