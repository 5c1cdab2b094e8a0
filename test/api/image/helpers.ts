// Shared setup for the image API tests: a cloud, a second project with a member user, upload helpers.
import type { TestCloud } from '../../helpers/cloud.js';

export const V2 = '/image/v2';
export const PATCH = { 'content-type': 'application/openstack-images-v2.1-json-patch' };
export const OCTET = { 'content-type': 'application/octet-stream' };

/** Creates a project with a member user and returns a token scoped to it. */
export async function memberOf(cloud: TestCloud, name: string): Promise<{ token: string; projectId: string }> {
  const admin = cloud.adminToken;
  const p = await cloud.request('POST', '/identity/v3/projects', { token: admin, body: { project: { name } } });
  if (p.status !== 201) throw new Error(`project: ${p.status} ${p.text}`);
  const u = await cloud.request('POST', '/identity/v3/users', {
    token: admin,
    body: { user: { name: `${name}-user`, password: 'pw-123456' } },
  });
  if (u.status !== 201) throw new Error(`user: ${u.status} ${u.text}`);
  const roles = await cloud.request('GET', '/identity/v3/roles?name=member', { token: admin });
  const rid = roles.json.roles[0].id;
  await cloud.request('PUT', `/identity/v3/projects/${p.json.project.id}/users/${u.json.user.id}/roles/${rid}`, {
    token: admin,
  });
  return { token: await cloud.login(`${name}-user`, 'pw-123456', name), projectId: p.json.project.id };
}

/** POST /v2/images and return the body (asserting 201 is the caller's job via status). */
export async function createImage(cloud: TestCloud, token: string, body: Record<string, unknown> = {}) {
  return cloud.request('POST', `${V2}/images`, {
    token,
    body: { disk_format: 'raw', container_format: 'bare', ...body },
  });
}

/** PUT the data of an image. */
export async function upload(
  cloud: TestCloud,
  token: string,
  id: string,
  data: Buffer,
  headers: Record<string, string> = {},
) {
  return cloud.request('PUT', `${V2}/images/${id}/file`, { token, payload: data, headers: { ...OCTET, ...headers } });
}

/** GET the data of an image as bytes. */
export async function download(cloud: TestCloud, token: string, id: string, headers: Record<string, string> = {}) {
  return cloud.controller.server.inject({
    method: 'GET',
    url: `${V2}/images/${id}/file`,
    headers: { 'x-auth-token': token, ...headers },
  });
}
