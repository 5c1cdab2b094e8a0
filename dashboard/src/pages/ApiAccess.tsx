import { useSession } from '../api/session';
import { download } from '../ui/format';
import { useT } from '../i18n';

/** The service endpoints, and clouds.yaml / openrc for the current user and project (never with a password). */
export function ApiAccess() {
  const s = useSession();
  const t = useT();
  const authUrl = `${window.location.origin}/identity/v3`;
  const cloudsYaml = [
    'clouds:', '  gureum:', '    auth:', `      auth_url: ${authUrl}`, `      username: ${JSON.stringify(s.user.name)}`,
    `      user_domain_name: ${JSON.stringify(s.user.domainName)}`, `      project_id: ${s.project.id}`,
    `      project_name: ${JSON.stringify(s.project.name)}`, '    # password: not stored here; set OS_PASSWORD or add it yourself',
    '    identity_api_version: 3', '    region_name: RegionOne', '    interface: public', '',
  ].join('\n');
  const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  const openrc = [
    '#!/bin/sh', `export OS_AUTH_URL=${q(authUrl)}`, 'export OS_IDENTITY_API_VERSION=3', `export OS_USERNAME=${q(s.user.name)}`,
    `export OS_USER_DOMAIN_NAME=${q(s.user.domainName)}`, `export OS_PROJECT_ID=${q(s.project.id)}`, `export OS_PROJECT_NAME=${q(s.project.name)}`,
    'export OS_REGION_NAME=RegionOne', 'export OS_INTERFACE=public',
    'printf "Password for %s: " "$OS_USERNAME"; stty -echo 2>/dev/null; read -r OS_PASSWORD; stty echo 2>/dev/null; echo; export OS_PASSWORD', '',
  ].join('\n');
  return (
    <section>
      <h1>{t('nav.apiAccess')}</h1>
      <div className="forms">
        <button type="button" onClick={() => download('clouds.yaml', cloudsYaml, 'application/yaml')}>{t('api.cloudsYaml')}</button>
        <button type="button" onClick={() => download(`${s.project.name}-openrc.sh`, openrc, 'text/x-shellscript')}>{t('api.openrc')}</button>
      </div>
      <p className="muted">{t('api.noPassword')}</p>
      <div className="table-wrap"><table>
        <thead><tr><th>{t('api.service')}</th><th>{t('api.endpoint')}</th></tr></thead>
        <tbody>{s.catalog.map((c) => <tr key={c.type}><td>{c.type}</td><td className="mono">{c.endpoints.find((e) => e.interface === 'public')?.url ?? ''}</td></tr>)}</tbody>
      </table></div>
      <pre className="mono snippet">{cloudsYaml}</pre>
    </section>
  );
}
