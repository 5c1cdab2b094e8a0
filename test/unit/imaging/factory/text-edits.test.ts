// The text edits sealing makes to configuration files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isMachineIdSet,
  lockShadow,
  stripIfcfg,
  stripNetplan,
  stripNetworkd,
} from '../../../../src/imaging/text-edits.js';

test('lockShadow locks hashes and empty passwords, leaves locked and disabled ones', () => {
  const e = lockShadow('a:$6$x:1::::::\nb::1::::::\nc:!$6$y:1::::::\nd:*:1::::::\n');
  assert.deepEqual(e.removed, ['a', 'b']);
  assert.equal(e.text, 'a:!$6$x:1::::::\nb:!:1::::::\nc:!$6$y:1::::::\nd:*:1::::::\n');
  assert.deepEqual(lockShadow(e.text).removed, []);
});

test('stripIfcfg drops HWADDR, MACADDR and UUID only', () => {
  const e = stripIfcfg('DEVICE=eth0\nHWADDR=aa\n UUID="x"\nMACADDR=bb\nONBOOT=yes\n');
  assert.equal(e.text, 'DEVICE=eth0\nONBOOT=yes\n');
  assert.equal(e.removed.length, 3);
});

test('stripNetplan keeps a match that still has other keys, and its set-name', () => {
  const src =
    'network:\n  ethernets:\n    e:\n      set-name: eth0\n      match:\n        driver: virtio_net\n        ' +
    'macaddress: aa:bb\n      dhcp4: true\n';
  const e = stripNetplan(src);
  assert.equal(
    e.text,
    'network:\n  ethernets:\n    e:\n      set-name: eth0\n      match:\n        driver: virtio_net\n      dhcp4: ' +
      'true\n',
  );
  assert.deepEqual(stripNetplan(e.text).removed, []);
});

test("stripNetplan drops a match left empty and the set-name before it, not a neighbour device's", () => {
  const src =
    'network:\n  ethernets:\n    a:\n      set-name: eth0\n      match:\n        macaddress: aa\n    b:\n      ' +
    'set-name: eth1\n      match:\n        name: en*\n';
  const e = stripNetplan(src);
  assert.equal(
    e.text,
    'network:\n  ethernets:\n    a:\n    b:\n      set-name: eth1\n      match:\n        name: en*\n',
  );
});

test('stripNetworkd reports an emptied [Match]', () => {
  assert.equal(stripNetworkd('[Match]\nMACAddress=aa\n[Link]\nName=x\n').emptyMatch, true);
  assert.equal(stripNetworkd('[Match]\nMACAddress=aa\nName=e*\n').emptyMatch, false);
  assert.equal(stripNetworkd('[Match]\nName=e*\n').removed.length, 0);
});

test('machine-id: empty and "uninitialized" identify nobody', () => {
  assert.equal(isMachineIdSet(''), false);
  assert.equal(isMachineIdSet('uninitialized\n'), false);
  assert.equal(isMachineIdSet('0123\n'), true);
});
