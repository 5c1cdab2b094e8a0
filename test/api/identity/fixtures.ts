// Small Keystone fixtures for the identity API tests: a project, a user with roles on it, a role.
import assert from 'node:assert/strict';
import type { TestCloud } from '../../helpers/cloud.js';

let n = 0;
/** A unique name per call. */
export const uniq = (prefix: string) => `${prefix}-${process.pid}-${++n}`;

export async function createProject(cloud: TestCloud, name = uniq('proj')): Promise<{ id: string; name: string }> {
  const r = await cloud.request('POST', '/identity/v3/projects', {
    token: cloud.adminToken,
    body: { project: { name } },
  });
  assert.equal(r.status, 201, r.text);
  return r.json.project;
}

export async function createRole(cloud: TestCloud, name = uniq('role')): Promise<{ id: string; name: string }> {
  const r = await cloud.request('POST', '/identity/v3/roles', { token: cloud.adminToken, body: { role: { name } } });
  assert.equal(r.status, 201, r.text);
  return r.json.role;
}

export async function roleId(cloud: TestCloud, name: string): Promise<string> {
  const r = await cloud.request('GET', `/identity/v3/roles?name=${name}`, { token: cloud.adminToken });
  assert.equal(r.status, 200, r.text);
  return r.json.roles[0].id;
}

export async function grant(cloud: TestCloud, projectId: string, userId: string, role: string): Promise<void> {
  const r = await cloud.request('PUT', `/identity/v3/projects/${projectId}/users/${userId}/roles/${role}`, {
    token: cloud.adminToken,
  });
  assert.equal(r.status, 204, r.text);
}

export interface TestUser {
  id: string;
  name: string;
  password: string;
  token: string;
  projectId: string;
}

/** A user holding `roles` (names) on `projectId`, logged in there. */
export async function createUser(
  cloud: TestCloud,
  projectId: string,
  projectName: string,
  roles: string[] = ['member'],
): Promise<TestUser> {
  const name = uniq('user');
  const password = `pw-${name}`;
  const r = await cloud.request('POST', '/identity/v3/users', {
    token: cloud.adminToken,
    body: { user: { name, password } },
  });
  assert.equal(r.status, 201, r.text);
  for (const role of roles) await grant(cloud, projectId, r.json.user.id, await roleId(cloud, role));
  const token = await cloud.login(name, password, projectName);
  return { id: r.json.user.id, name, password, token, projectId };
}

/** Authenticates with a body; returns status, token and token body. */
export async function auth(
  cloud: TestCloud,
  body: unknown,
): Promise<{ status: number; token: string; body: any; text: string }> {
  const r = await cloud.request('POST', '/identity/v3/auth/tokens', { body });
  return { status: r.status, token: String(r.headers['x-subject-token'] ?? ''), body: r.json?.token, text: r.text };
}
