// Query-string schemas shared by the services' list routes. Every value is a string or a list of strings (a
// repeated key), never longer than a URL could sensibly carry; paging integers are integers in range. Filters a
// service does not know stay allowed (Nova, Neutron, Glance and Cinder ignore or apply them), but typed.
// Keys that reach object prototypes (`__proto__`) are refused before this, for every route (json-body.ts).
import { Type, type TProperties } from '@sinclair/typebox';

const Text = Type.String({ maxLength: 4096 });
/** One query value: a string, or the list a repeated key gives. */
export const QueryValue = Type.Union([Text, Type.Array(Text, { maxItems: 256 })]);
/** A page size or offset: a non-negative integer a 64-bit column can hold exactly. */
export const QueryCount = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** A list route's query: typed paging (limit, marker, offset) and the route's own keys; other filters as strings. */
export const pagedQuery = (props: TProperties = {}) =>
  Type.Object(
    {
      limit: Type.Optional(QueryCount),
      offset: Type.Optional(QueryCount),
      marker: Type.Optional(Type.String({ maxLength: 255 })),
      ...props,
    },
    { additionalProperties: QueryValue },
  );

/** A query of a route that reads no paging (show routes with `fields`, usage with dates): strings only. */
export const plainQuery = Type.Object({}, { additionalProperties: QueryValue });
