// Cinder's secure-RBAC defaults (cinder/policies/*.py), folded into four rules: project readers read, project
// members write their project, admins do everything (types, services, other projects' quotas, reset status, force
// delete), and any reader may list zones and volume types. Route-level checks run against the caller's own project;
// the service then finds the object in that project (404 otherwise).
import { admin, projectMember, projectReader, reader, type Rule } from './checks.js';

export const volumeRules = {
  'volume:read': projectReader,
  'volume:write': projectMember,
  'volume:admin': admin,
  'volume:reader': reader,
} satisfies Record<string, Rule>;
