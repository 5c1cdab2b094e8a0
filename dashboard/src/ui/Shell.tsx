import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, Route, Switch, useLocation } from 'wouter';
import { isAdmin, useSession } from '../api/session';
import { projectsOf, signOut, switchProject } from '../api/auth';
import { setLang, useLang, useT, type MessageKey } from '../i18n';
import { Overview } from '../pages/Overview';
import { Instances } from '../pages/Instances';
import { InstanceDetail } from '../pages/InstanceDetail';
import { LaunchWizard } from '../pages/LaunchWizard';
import { Images } from '../pages/Images';
import { ImageDetail } from '../pages/images/ImageDetail';
import { Volumes } from '../pages/Volumes';
import { Networks } from '../pages/Networks';
import { Topology } from '../pages/Topology';
import { SecurityGroups } from '../pages/SecurityGroups';
import { Keypairs } from '../pages/Keypairs';
import { ApiAccess } from '../pages/ApiAccess';
import { AdminHypervisors, AdminInstances, AdminIdentity, AdminServices } from '../pages/Admin';
import { AdminFlavors } from '../pages/admin/Flavors';
import { AdminQuotas } from '../pages/admin/Quotas';
import { AdminGroups } from '../pages/admin/Groups';
import { AppCredentials } from '../pages/AppCredentials';
import { AdminGoldenImages } from '../pages/admin/GoldenImages';

const PROJECT_NAV: [string, MessageKey][] = [
  ['/', 'nav.overview'], ['/instances', 'nav.instances'], ['/images', 'nav.images'], ['/volumes', 'nav.volumes'], ['/networks', 'nav.networks'],
  ['/topology', 'nav.topology'], ['/security-groups', 'nav.securityGroups'], ['/keypairs', 'nav.keypairs'],
  ['/api-access', 'nav.apiAccess'], ['/app-credentials', 'nav.appCredentials'],
];
const ADMIN_NAV: [string, MessageKey][] = [
  ['/admin/hypervisors', 'nav.hypervisors'], ['/admin/instances', 'nav.allInstances'], ['/admin/flavors', 'nav.flavors'], ['/admin/golden-images', 'nav.goldenImages'], ['/admin/quotas', 'nav.quotas'], ['/admin/groups', 'nav.groups'],
  ['/admin/identity', 'nav.identity'], ['/admin/services', 'nav.services'],
];

function ProjectSwitcher() {
  const s = useSession();
  const t = useT();
  const client = useQueryClient();
  const projects = useQuery({
    queryKey: ['auth-projects', s.user.id],
    queryFn: () => projectsOf(s.baseToken!),
    enabled: !!s.baseToken,
    staleTime: 60_000,
  });
  if (!s.baseToken) return <span className="project">{s.project.name}</span>;
  return (
    <label className="project">
      <span className="sr-only">{t('shell.project')}</span>
      <select
        value={s.project.id}
        aria-label={t('shell.project')}
        onChange={async (e) => {
          await switchProject(e.target.value);
          client.clear();
        }}
      >
        {(projects.data ?? [{ id: s.project.id, name: s.project.name }]).map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
      </select>
    </label>
  );
}

function NavLinks({ items }: { items: [string, MessageKey][] }) {
  const t = useT();
  const [loc] = useLocation();
  return (
    <ul>
      {items.map(([href, key]) => {
        const active = href === '/' ? loc === '/' : loc === href || loc.startsWith(`${href}/`);
        return <li key={href}><Link href={href} aria-current={active ? 'page' : undefined}>{t(key)}</Link></li>;
      })}
    </ul>
  );
}

export function Shell() {
  const s = useSession();
  const t = useT();
  const lang = useLang();
  return (
    <div className="shell">
      <a className="skip" href="#main">{t('shell.skip')}</a>
      <header className="top">
        <span className="brand">☁ Gureum</span>
        <ProjectSwitcher />
        <span className="spacer" />
        <span className="who">{s.user.name}@{s.user.domainName}</span>
        <select aria-label={t('shell.language')} value={lang} onChange={(e) => setLang(e.target.value as 'en' | 'ko')}>
          <option value="en">English</option>
          <option value="ko">한국어</option>
        </select>
        <button type="button" onClick={() => void signOut()}>{t('shell.logout')}</button>
      </header>
      <nav className="side" aria-label={t('shell.navigation')}>
        <h2>{t('nav.project')}</h2>
        <NavLinks items={PROJECT_NAV} />
        {isAdmin(s) && <><h2>{t('nav.admin')}</h2><NavLinks items={ADMIN_NAV} /></>}
      </nav>
      <main id="main" tabIndex={-1}>
        <Switch>
          <Route path="/" component={Overview} />
          <Route path="/instances">{() => <Instances />}</Route>
          <Route path="/instances/:id">{(p) => <InstanceDetail id={p.id} />}</Route>
          <Route path="/launch" component={LaunchWizard} />
          <Route path="/images" component={Images} />
          <Route path="/images/:id">{(p) => <ImageDetail id={p.id} />}</Route>
          <Route path="/volumes" component={Volumes} />
          <Route path="/networks" component={Networks} />
          <Route path="/topology" component={Topology} />
          <Route path="/security-groups" component={SecurityGroups} />
          <Route path="/keypairs" component={Keypairs} />
          <Route path="/api-access" component={ApiAccess} />
          <Route path="/app-credentials" component={AppCredentials} />
          <Route path="/admin/hypervisors" component={AdminHypervisors} />
          <Route path="/admin/instances" component={AdminInstances} />
          <Route path="/admin/flavors" component={AdminFlavors} />
          <Route path="/admin/golden-images" component={AdminGoldenImages} />
          <Route path="/admin/quotas" component={AdminQuotas} />
          <Route path="/admin/groups" component={AdminGroups} />
          <Route path="/admin/identity" component={AdminIdentity} />
          <Route path="/admin/services" component={AdminServices} />
          <Route><p>{t('shell.notFound')}</p></Route>
        </Switch>
      </main>
    </div>
  );
}
