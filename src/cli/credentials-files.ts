import { writeFileSync, existsSync, readFileSync, chmodSync } from 'node:fs';
import { dataPaths } from '../util/paths.js';
import type { GureumConfig } from '../config.js';

/** Quotes a value for a single-quoted shell assignment. */
const shq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
/** Quotes a YAML scalar as a double-quoted string. */
const yq = (s: string) => JSON.stringify(s);

/** Writes DATA_DIR/clouds.yaml (cloud "gureum") and admin-openrc.sh, mode 0600. */
export function writeCredentialFiles(config: GureumConfig, password: string): { cloudsYaml: string; openrc: string } {
  const authUrl = `${config.server.publicUrl}/identity/v3`;
  const { cloudsYaml, adminOpenrc: openrc } = dataPaths(config.dataDir);
  writeFileSync(
    cloudsYaml,
    [
      `# Written by gureum on first start. Use: export OS_CLIENT_CONFIG_FILE=${cloudsYaml}; openstack --os-cloud ` +
        `gureum ...`,
      'clouds:',
      '  gureum:',
      '    auth:',
      `      auth_url: ${yq(authUrl)}`,
      '      username: "admin"',
      `      password: ${yq(password)}`,
      '      project_name: "admin"',
      '      user_domain_name: "Default"',
      '      project_domain_name: "Default"',
      `    region_name: ${yq(config.server.region)}`,
      '    interface: "public"',
      '    identity_api_version: 3',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  chmodSync(cloudsYaml, 0o600);
  writeFileSync(
    openrc,
    [
      `# Source this file: . ${openrc}`,
      `export OS_AUTH_URL=${shq(authUrl)}`,
      "export OS_USERNAME='admin'",
      `export OS_PASSWORD=${shq(password)}`,
      "export OS_PROJECT_NAME='admin'",
      "export OS_USER_DOMAIN_NAME='Default'",
      "export OS_PROJECT_DOMAIN_NAME='Default'",
      `export OS_REGION_NAME=${shq(config.server.region)}`,
      "export OS_IDENTITY_API_VERSION='3'",
      "export OS_INTERFACE='public'",
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  chmodSync(openrc, 0o600);
  return { cloudsYaml, openrc };
}

/** The admin password recorded on first start, if the files exist. */
export function readSavedPassword(dataDir: string): string | undefined {
  const openrc = dataPaths(dataDir).adminOpenrc;
  if (!existsSync(openrc)) return undefined;
  const m = /^export OS_PASSWORD='((?:[^']|'\\'')*)'$/m.exec(readFileSync(openrc, 'utf8'));
  return m ? m[1]!.replaceAll(`'\\''`, "'") : undefined;
}
