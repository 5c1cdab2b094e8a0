// Shared setup for the network API tests: a test cloud plus a member user in a project of their own.
import assert from 'node:assert/strict';
import type { TestCloud, InjectResult } from '../../helpers/cloud.js';

export interface Member {
  token: string;
  projectId: string;
}

/** Creates a project and a user with the member role on it, and logs in. */
export async function makeMember(cloud: TestCloud, name: string): Promise<Member> {
  const admin = cloud.adminToken;
  const p = await cloud.request('POST', '/identity/v3/projects', {
    token: admin,
    body: { project: { name: `p-${name}` } },
  });
  assert.equal(p.status, 201, p.text);
  const u = await cloud.request('POST', '/identity/v3/users', {
    token: admin,
    body: { user: { name: `u-${name}`, password: 'pw-123456', default_project_id: p.json.project.id } },
  });
  assert.equal(u.status, 201, u.text);
  const roles = await cloud.request('GET', '/identity/v3/roles?name=member', { token: admin });
  const role = roles.json.roles[0].id;
  const g = await cloud.request(
    'PUT',
    `/identity/v3/projects/${p.json.project.id}/users/${u.json.user.id}/roles/${role}`,
    { token: admin },
  );
  assert.equal(g.status, 204, g.text);
  return { token: await cloud.login(`u-${name}`, 'pw-123456', `p-${name}`), projectId: p.json.project.id };
}

/** A request to the network API that must answer `status`; returns the parsed body. */
export function api(cloud: TestCloud) {
  return async (token: string, method: string, path: string, body?: unknown, status?: number): Promise<any> => {
    const res: InjectResult = await cloud.request(method, `/network/v2.0${path}`, {
      token,
      ...(body !== undefined ? { body } : {}),
    });
    if (status !== undefined) assert.equal(res.status, status, `${method} ${path} -> ${res.status} ${res.text}`);
    return res.json;
  };
}

/** Asserts a Neutron error body with the given status and type. */
export async function neutronError(
  cloud: TestCloud,
  token: string,
  method: string,
  path: string,
  body: unknown,
  status: number,
  type?: string,
): Promise<void> {
  const res = await cloud.request(method, `/network/v2.0${path}`, { token, body });
  assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)} -> ${res.status} ${res.text}`);
  assert.ok(res.json?.NeutronError, `not a NeutronError body: ${res.text}`);
  assert.equal(typeof res.json.NeutronError.message, 'string');
  assert.equal(typeof res.json.NeutronError.detail, 'string');
  if (type) assert.equal(res.json.NeutronError.type, type, res.text);
}
