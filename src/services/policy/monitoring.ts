// Gureum's own instance monitoring (/monitoring/v1): graphs are read with the user's token, as the servers they
// describe: a reader of the project (the service then finds the server in the caller's project, else 404), or an admin.
import { projectReader } from './checks.js';

export const monitoringRules = {
  'monitoring:server:show': projectReader,
  'monitoring:project:show': projectReader,
};
