// Gureum's own audit trail (no OpenStack counterpart): only cloud admins read it; there is no write rule because
// no API writes it (the HTTP layer appends, retention deletes).
import { admin, type Rule } from './checks.js';

export const auditRules = {
  'audit:events:list': admin,
} satisfies Record<string, Rule>;
