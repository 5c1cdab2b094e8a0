// servers/{id}/os-volume_attachments: `openstack server volume list` on a server without volumes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud } from '../../helpers/cloud.js';
import { makeMember } from '../network/helpers.js';
import { V, makeImage, privateNet, waitFor } from './helpers.js';

test(
  'volume attachments of a server without volumes: 200 and an empty list; 404 for a server one cannot ' + 'see',
  async (t) => {
    const c = await createTestCloud();
    t.after(() => c.close());
    const tok = c.adminToken;
    const imageId = await makeImage(c);
    const net = await privateNet(c);
    const r = await c.request('POST', `${V}/servers`, {
      token: tok,
      body: { server: { name: 'vol-list', imageRef: imageId, flavorRef: '1', networks: [{ uuid: net }] } },
    });
    assert.equal(r.status, 202, r.text);
    const id = (await waitFor(c, tok, r.json.server.id, 'ACTIVE')).id as string;

    const list = await c.request('GET', `${V}/servers/${id}/os-volume_attachments`, { token: tok });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json, { volumeAttachments: [] });

    const missing = await c.request('GET', `${V}/servers/00000000-0000-0000-0000-000000000000/os-volume_attachments`, {
      token: tok,
    });
    assert.equal(missing.status, 404);
    const other = await makeMember(c, 'vol-other');
    const hidden = await c.request('GET', `${V}/servers/${id}/os-volume_attachments`, { token: other.token });
    assert.equal(hidden.status, 404, 'another project does not see the server');
  },
);
