import type { IdentityService } from './index.js';
import { DEFAULT_DOMAIN_ID } from './domains.js';
import { randomSecret } from '../../util/ids.js';

export interface BootstrapResult {
  /** Set only on the very first start, when the admin password was generated. */
  generatedPassword?: string;
  adminUserId: string;
  adminProjectId: string;
}

/**
 * First-start state, idempotent: domain `default`, projects `admin` and `service`, roles admin ⊃ member ⊃ reader,
 * the admin user (generated password) with admin on the admin project and the system.
 */
export async function bootstrapIdentity(identity: IdentityService, password?: string): Promise<BootstrapResult> {
  const db = identity.deps.db;
  if (!(await db.selectFrom('domains').select('id').where('id', '=', DEFAULT_DOMAIN_ID).executeTakeFirst())) {
    await identity.domains.create({ name: 'Default', description: 'The default domain' }, DEFAULT_DOMAIN_ID);
  }
  const role = async (name: string) => (await identity.roles.findByName(name)) ?? identity.roles.create({ name });
  const admin = await role('admin');
  const member = await role('member');
  const reader = await role('reader');
  await role('service');
  await identity.roles.createImplication(admin.id, member.id);
  await identity.roles.createImplication(member.id, reader.id);

  const project = async (name: string, description: string) =>
    (await identity.projects.findByName(name, DEFAULT_DOMAIN_ID)) ??
    identity.projects.create({ name, description }, DEFAULT_DOMAIN_ID);
  const adminProject = await project('admin', 'Bootstrap project for the cloud administrator');
  await project('service', 'Project for service users');

  let generatedPassword: string | undefined;
  let user = await identity.users.findByName('admin', DEFAULT_DOMAIN_ID);
  if (!user) {
    generatedPassword = password ?? randomSecret(18);
    const created = await identity.users.create(
      { name: 'admin', password: generatedPassword, default_project_id: adminProject.id },
      DEFAULT_DOMAIN_ID,
    );
    user = (await identity.users.find(created.id))!;
  }
  await identity.assignments.grant({ user: user.id }, { project: adminProject.id }, admin.id);
  await identity.assignments.grant({ user: user.id }, { domain: DEFAULT_DOMAIN_ID }, admin.id);
  await identity.assignments.grant({ user: user.id }, { system: true }, admin.id);
  return { ...(generatedPassword ? { generatedPassword } : {}), adminUserId: user.id, adminProjectId: adminProject.id };
}
