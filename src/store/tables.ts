import type { IdentityTables } from './identity-tables.js';
import type { IdentityExtraTables } from './identity-extra-tables.js';
import type { ImageTables } from './image-tables.js';
import type { NetworkTables } from './network-tables.js';

/** The whole typed schema: each service contributes its tables. */
export interface Database extends IdentityTables, IdentityExtraTables, ImageTables, NetworkTables {}
