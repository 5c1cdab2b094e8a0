// A small OpenStack client for the factory when it runs as its own process next to a running cloud: Keystone
// password auth (OS_* variables, or the clouds.yaml `gureum up` wrote in its data directory), Glance v2 and the
// one Nova action `capture` needs. Image data is streamed; a failed upload deletes the half-made image.
import { createReadStream, createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { ImagingError } from './errors.js';

/** Password credentials for Keystone v3. */
export interface Credentials {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
  region?: string;
}

/** Reads the first cloud of a clouds.yaml as written by `gureum up` (a flat, quoted subset of YAML). */
export function parseCloudsYaml(text: string, cloud = 'gureum'): Credentials {
  const v: Record<string, string> = {};
  let inCloud = false;
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) || !line.trim()) continue;
    const m = /^(\s*)([A-Za-z_]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, ind, key, rawVal] = m;
    if (ind!.length === 2) inCloud = key === cloud;
    if (!inCloud || !rawVal) continue;
    let val = rawVal.trim();
    if (val.startsWith('"')) val = JSON.parse(val) as string;
    else if (val.startsWith("'")) val = val.slice(1, -1).replaceAll("''", "'");
    v[key!] = val;
  }
  if (!v.auth_url || !v.username || !v.password)
    throw new ImagingError('bad-input', `clouds.yaml has no usable "${cloud}" cloud (auth_url, username, password)`);
  return {
    authUrl: v.auth_url,
    username: v.username,
    password: v.password,
    projectName: v.project_name ?? 'admin',
    userDomainName: v.user_domain_name ?? 'Default',
    projectDomainName: v.project_domain_name ?? 'Default',
    ...(v.region_name ? { region: v.region_name } : {}),
  };
}

/** Credentials from OS_* variables when OS_AUTH_URL is set, else DATA_DIR/clouds.yaml. */
export function findCredentials(dataDir: string, env: Readonly<NodeJS.ProcessEnv>): Credentials {
  if (env.OS_AUTH_URL) {
    if (!env.OS_USERNAME || !env.OS_PASSWORD)
      throw new ImagingError('bad-input', 'OS_AUTH_URL is set but OS_USERNAME/OS_PASSWORD are not');
    return {
      authUrl: env.OS_AUTH_URL,
      username: env.OS_USERNAME,
      password: env.OS_PASSWORD,
      projectName: env.OS_PROJECT_NAME ?? 'admin',
      userDomainName: env.OS_USER_DOMAIN_NAME ?? 'Default',
      projectDomainName: env.OS_PROJECT_DOMAIN_NAME ?? 'Default',
      ...(env.OS_REGION_NAME ? { region: env.OS_REGION_NAME } : {}),
    };
  }
  const file = join(dataDir, 'clouds.yaml');
  if (!existsSync(file))
    throw new ImagingError(
      'bad-input',
      `no credentials: set OS_AUTH_URL/OS_USERNAME/OS_PASSWORD or give --data-dir of a running cloud (${file} not ` +
        `found)`,
    );
  return parseCloudsYaml(readFileSync(file, 'utf8'));
}

/** A Glance image as the API shows it. */
export type GlanceImage = Record<string, unknown> & {
  id: string;
  name: string | null;
  status: string;
  disk_format?: string;
  size?: number;
};

/** An authenticated session with the image and compute endpoints. */
export class CloudClient {
  private constructor(
    private readonly token: string,
    readonly imageUrl: string,
    readonly computeUrl: string | undefined,
  ) {}

  static async login(c: Credentials): Promise<CloudClient> {
    const url = `${c.authUrl.replace(/\/+$/, '')}/auth/tokens`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: c.username, password: c.password, domain: { name: c.userDomainName } } },
          },
          scope: { project: { name: c.projectName, domain: { name: c.projectDomainName } } },
        },
      }),
    }).catch((e: Error) => {
      throw new ImagingError('tool', `cannot reach Keystone at ${url}: ${e.message}`);
    });
    if (res.status !== 201)
      throw new ImagingError(
        'refused',
        `Keystone refused the credentials (${res.status}): ${(await res.text()).slice(0, 300)}`,
      );
    const token = res.headers.get('x-subject-token')!;
    const body = (await res.json()) as {
      token: { catalog?: { type: string; endpoints: { interface: string; url: string; region?: string }[] }[] };
    };
    const endpoint = (type: string) =>
      body.token.catalog
        ?.find((s) => s.type === type)
        ?.endpoints.find((e) => e.interface === 'public' && (!c.region || !e.region || e.region === c.region))
        ?.url.replace(/\/+$/, '');
    const image = endpoint('image');
    if (!image) throw new ImagingError('tool', 'the catalog has no public image endpoint');
    return new CloudClient(token, image, endpoint('compute'));
  }

  private async call(
    method: string,
    url: string,
    opts: { body?: unknown; headers?: Record<string, string>; ok?: number[] } = {},
  ): Promise<Response> {
    const res = await fetch(url, {
      method,
      headers: {
        'x-auth-token': this.token,
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    if (!(opts.ok ?? [200, 201, 202, 204]).includes(res.status)) {
      throw new ImagingError(
        res.status === 404 ? 'not-found' : 'refused',
        `${method} ${url}: ${res.status} ${(await res.text()).slice(0, 300)}`,
      );
    }
    return res;
  }

  /** An image by id, or by exact name (an ambiguous name is an error). */
  async findImage(nameOrId: string): Promise<GlanceImage> {
    if (/^[0-9a-f-]{36}$/i.test(nameOrId)) {
      const r = await this.call('GET', `${this.imageUrl}/v2/images/${nameOrId}`, { ok: [200, 404] });
      if (r.status === 200) return (await r.json()) as GlanceImage;
    }
    const list = (await (
      await this.call('GET', `${this.imageUrl}/v2/images?name=${encodeURIComponent(nameOrId)}`)
    ).json()) as { images: GlanceImage[] };
    if (list.images.length === 0) throw new ImagingError('not-found', `no image named or with id "${nameOrId}"`);
    if (list.images.length > 1)
      throw new ImagingError('bad-input', `more than one image is named "${nameOrId}"; use its id`);
    return list.images[0]!;
  }

  async getImage(id: string): Promise<GlanceImage> {
    return (await (await this.call('GET', `${this.imageUrl}/v2/images/${id}`)).json()) as GlanceImage;
  }

  /** Streams an active image's data to a file. */
  async download(id: string, file: string): Promise<void> {
    const res = await this.call('GET', `${this.imageUrl}/v2/images/${id}/file`, { ok: [200] });
    await pipeline(
      Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
      createWriteStream(file, { mode: 0o600 }),
    );
  }

  /** Creates an image record and uploads the file; deletes the record when the upload fails. */
  async upload(file: string, fields: Record<string, unknown>): Promise<GlanceImage> {
    const img = (await (await this.call('POST', `${this.imageUrl}/v2/images`, { body: fields })).json()) as GlanceImage;
    try {
      const res = await fetch(`${this.imageUrl}/v2/images/${img.id}/file`, {
        method: 'PUT',
        headers: {
          'x-auth-token': this.token,
          'content-type': 'application/octet-stream',
          'content-length': String(statSync(file).size),
        },
        body: Readable.toWeb(createReadStream(file)) as unknown as BodyInit,
        duplex: 'half',
      } as RequestInit);
      if (res.status !== 204)
        throw new ImagingError('refused', `upload refused (${res.status}): ${(await res.text()).slice(0, 300)}`);
      return await this.getImage(img.id);
    } catch (e) {
      await this.deleteImage(img.id).catch(() => undefined);
      throw e;
    }
  }

  async deleteImage(id: string): Promise<void> {
    await this.call('DELETE', `${this.imageUrl}/v2/images/${id}`, { ok: [204, 404] });
  }

  /** Sets (adds or replaces) string properties on an image. */
  async setProperties(id: string, props: Record<string, string>, existing: Record<string, unknown>): Promise<void> {
    const ops = Object.entries(props).map(([k, v]) => ({
      op: k in existing ? 'replace' : 'add',
      path: `/${k}`,
      value: v,
    }));
    if (ops.length)
      await this.call('PATCH', `${this.imageUrl}/v2/images/${id}`, {
        body: ops,
        headers: { 'content-type': 'application/openstack-images-v2.1-json-patch' },
      });
  }

  /** Waits until an image is active (a snapshot being uploaded); throws when it ends in another state. */
  async waitActive(id: string, timeoutMs = 1_800_000): Promise<GlanceImage> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const img = await this.getImage(id);
      if (img.status === 'active') return img;
      if (['killed', 'deleted', 'deactivated'].includes(img.status))
        throw new ImagingError('tool', `image ${id} ended ${img.status}`);
      if (Date.now() > end)
        throw new ImagingError('tool', `image ${id} still ${img.status} after ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  /** `server image create`: Nova's createImage action; returns the new image id. */
  async createServerImage(server: string, name: string): Promise<string> {
    if (!this.computeUrl) throw new ImagingError('tool', 'the catalog has no compute endpoint');
    const headers = { 'openstack-api-version': 'compute 2.45', 'x-openstack-nova-api-version': '2.45' };
    let id = server;
    if (!/^[0-9a-f-]{36}$/i.test(server)) {
      const list = (await (
        await this.call(
          'GET',
          `${this.computeUrl}/servers?name=${encodeURIComponent(`^${server.replace(/[.^$*+?()[\]{}|\\]/g, '\\$&')}$`)}`,
          { headers },
        )
      ).json()) as { servers: { id: string }[] };
      if (list.servers.length !== 1)
        throw new ImagingError(
          list.servers.length ? 'bad-input' : 'not-found',
          `${list.servers.length || 'no'} server${list.servers.length === 1 ? '' : 's'} named "${server}"`,
        );
      id = list.servers[0]!.id;
    }
    const res = await this.call('POST', `${this.computeUrl}/servers/${id}/action`, {
      body: { createImage: { name } },
      headers,
    });
    const body = (await res.json().catch(() => ({}))) as { image_id?: string };
    const imageId = body.image_id ?? /\/images\/([0-9a-f-]{36})/.exec(res.headers.get('location') ?? '')?.[1];
    if (!imageId) throw new ImagingError('tool', 'Nova did not say which image it created');
    return imageId;
  }
}
