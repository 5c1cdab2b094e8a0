import type { IdentityTables } from './identity-tables.js';
import type { IdentityExtraTables, IdentityFilterTables } from './identity-extra-tables.js';
import type { ImageTables } from './image-tables.js';
import type { ComputeTables } from './compute-tables.js';
import type { NetworkTables } from './network-tables.js';
import type { NetworkAgentTables } from './network-agent-tables.js';
import type { ConsoleTables } from './console-tables.js';
import type { VolumeTables } from './volume-tables.js';
import type { AuditTables } from './audit-tables.js';
import type { MeteringTables } from './metering-tables.js';

/** The whole typed schema: each service contributes its tables. */
export interface Database
  extends IdentityTables,
    IdentityExtraTables,
    IdentityFilterTables,
    ImageTables,
    NetworkTables,
    NetworkAgentTables,
    ComputeTables,
    ConsoleTables,
    VolumeTables,
    AuditTables,
    MeteringTables {}
