import type { InstanceMetadata } from '../../../src/services/metadata/model.js';

/** One instance's metadata as the trees see it. */
export function sampleMetadata(over: Partial<InstanceMetadata> = {}): InstanceMetadata {
  return {
    uuid: '11111111-2222-4333-8444-555555555555',
    seq: 26,
    name: 'vm1',
    hostname: 'vm1',
    projectId: 'proj1',
    availabilityZone: 'nova',
    launchIndex: 0,
    reservationId: 'r-abc',
    imageId: '99999999-2222-4333-8444-555555555555',
    kernelId: 'kkk',
    ramdiskId: 'rrr',
    flavorName: 'm1.nano',
    keys: [{ name: 'k', type: 'ssh', data: 'ssh-ed25519 AAAAC3Nza k@host' }],
    userData: Buffer.from('#!/bin/sh\necho hi\n'),
    meta: { role: 'web' },
    securityGroups: ['default', 'web'],
    nics: [
      {
        portId: 'a1b2c3d4-e5f6-4000-8000-000000000001',
        networkId: 'net-1',
        mac: 'fa:16:3e:00:00:01',
        fixedIps: [{ address: '10.0.0.5', version: 4 }],
        floatingIps: ['172.24.4.10'],
      },
    ],
    password: '',
    launchedAt: null,
    ...over,
  };
}
