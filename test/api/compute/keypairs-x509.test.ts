// os-keypairs type x509 without a certificate: Nova generates an RSA key and a self-signed certificate (Tempest's
// test_keypairsv22_create_list_show_with_type).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { createTestCloud } from '../../helpers/cloud.js';
import { V } from './helpers.js';

test('generated x509 key pair: a self-signed certificate for the returned private key', async (t) => {
  const c = await createTestCloud();
  t.after(() => c.close());
  const req = (m: string, u: string, body?: unknown) =>
    c.request(m, u, { token: c.adminToken, body, headers: { 'X-OpenStack-Nova-API-Version': '2.2' } });
  const made = await req('POST', `${V}/os-keypairs`, { keypair: { name: 'cert-kp', type: 'x509' } });
  assert.equal(made.status, 201, made.text);
  const kp = made.json.keypair;
  assert.equal(kp.type, 'x509');
  const cert = new X509Certificate(kp.public_key);
  assert.ok(cert.verify(cert.publicKey), 'self-signed: the certificate verifies with its own key');
  assert.ok(cert.checkPrivateKey(createPrivateKey(kp.private_key)), 'the certificate is for the returned private key');
  assert.equal(createPublicKey(kp.public_key).asymmetricKeyType, 'rsa');
  assert.equal(kp.fingerprint, cert.fingerprint.toLowerCase());
  assert.ok(Date.parse(cert.validTo) > Date.now() + 300 * 24 * 3600 * 1000);
  const shown = await req('GET', `${V}/os-keypairs/cert-kp`);
  assert.equal(shown.status, 200, shown.text);
  assert.equal(shown.json.keypair.type, 'x509');
  assert.equal(shown.json.keypair.public_key.trim(), kp.public_key.trim());
  assert.equal('private_key' in shown.json.keypair, false, 'the private key is shown once');
});
