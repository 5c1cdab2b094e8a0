import type { IdentityTables } from './identity-tables.js';

/** The whole typed schema: each service contributes its tables. */
export interface Database extends IdentityTables {}
