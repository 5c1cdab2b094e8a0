"""A walk through Gureum with Debian's openstacksdk (python3-openstacksdk), run by test/compat/openstacksdk.test.ts:
    OS_CLIENT_CONFIG_FILE=.../clouds.yaml /usr/bin/python3 walk.py
Each step prints one JSON line {"step", "ok", "error"?}; a failed step stops the walk (later ones would only fail
for the same reason). Nothing here is Gureum-specific: it is what a user's script would do.
"""
import datetime
import hashlib
import io
import json
import os
import sys
import traceback

import openstack

conn = openstack.connect(cloud=os.environ.get('OS_CLOUD', 'gureum'))
state = {}
SUFFIX = os.environ.get('WALK_SUFFIX', 'sdk')
PAYLOAD = os.urandom(3 * 1024 * 1024 + 17)


def step(name):
    def wrap(fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 (report every failure as the step's)
            print(json.dumps({'step': name, 'ok': False, 'error': '%s: %s' % (type(e).__name__, e),
                              'trace': traceback.format_exc()[-3000:]}), flush=True)
            sys.exit(1)
        print(json.dumps({'step': name, 'ok': True}), flush=True)
        return fn
    return wrap


def check(cond, message):
    if not cond:
        raise AssertionError(message)


@step('image upload: checksums (md5, sha512) match the bytes sent')
def _():
    image = conn.image.create_image(name='sdk-image-' + SUFFIX, data=PAYLOAD, disk_format='raw',
                                    container_format='bare', visibility='public', validate_checksum=True, wait=True)
    image = conn.image.get_image(image.id)
    check(image.status == 'active', 'status %s' % image.status)
    check(image.size == len(PAYLOAD), 'size %s' % image.size)
    check(image.checksum == hashlib.md5(PAYLOAD).hexdigest(), 'md5 %s' % image.checksum)
    check(image.hash_algo == 'sha512' and image.hash_value == hashlib.sha512(PAYLOAD).hexdigest(),
          'os_hash %s %s' % (image.hash_algo, image.hash_value))
    state['image'] = image


@step('image download: the same bytes, checksum validated by the SDK')
def _():
    got = conn.image.download_image(state['image'])
    data = got.content if hasattr(got, 'content') else got
    check(data == PAYLOAD, 'downloaded %d bytes, not the %d uploaded' % (len(data), len(PAYLOAD)))
    out = io.BytesIO()
    conn.image.download_image(state['image'], stream=True, output=out)
    check(out.getvalue() == PAYLOAD, 'streamed download differs')


@step('server create and wait for ACTIVE')
def _():
    flavor = conn.compute.find_flavor('m1.nano', ignore_missing=False)
    net = conn.network.find_network('private', ignore_missing=False)
    server = conn.compute.create_server(name='sdk-vm-' + SUFFIX, image_id=state['image'].id, flavor_id=flavor.id,
                                        networks=[{'uuid': net.id}], metadata={'owner': 'sdk'})
    server = conn.compute.wait_for_server(server, status='ACTIVE', wait=120, interval=1)
    check(server.metadata == {'owner': 'sdk'}, 'metadata is what the user set: %s' % server.metadata)
    state['server'] = server


def wait(status):
    return conn.compute.wait_for_server(conn.compute.get_server(state['server'].id), status=status, wait=120, interval=1)


@step('server actions: stop/start, reboot, pause/unpause, suspend/resume, lock/unlock')
def _():
    s = state['server']
    conn.compute.stop_server(s)
    wait('SHUTOFF')
    conn.compute.start_server(s)
    wait('ACTIVE')
    conn.compute.reboot_server(s, 'SOFT')
    wait('ACTIVE')
    conn.compute.pause_server(s)
    wait('PAUSED')
    conn.compute.unpause_server(s)
    wait('ACTIVE')
    conn.compute.suspend_server(s)
    wait('SUSPENDED')
    conn.compute.resume_server(s)
    wait('ACTIVE')
    conn.compute.lock_server(s)
    check(conn.compute.get_server(s.id).is_locked in (True, None), 'locked')
    conn.compute.unlock_server(s)


@step('server actions: rebuild, resize and confirm')
def _():
    s = state['server']
    conn.compute.rebuild_server(s, image=state['image'].id, name='sdk-vm-rebuilt-' + SUFFIX)
    s = wait('ACTIVE')
    check(s.name == 'sdk-vm-rebuilt-' + SUFFIX, 'rebuilt name %s' % s.name)
    micro = conn.compute.find_flavor('m1.micro', ignore_missing=False)
    conn.compute.resize_server(s, micro)
    wait('VERIFY_RESIZE')
    conn.compute.confirm_server_resize(s)
    s = wait('ACTIVE')
    check(s.flavor.original_name in (None, 'm1.micro') or s.flavor.id == micro.id, 'flavor after resize %s' % s.flavor)


@step('volume attachments of a server without volumes: an empty list')
def _():
    attachments = list(conn.compute.volume_attachments(state['server']))
    check(attachments == [], 'attachments %s' % attachments)


@step('floating IP lifecycle: create, associate with the server port, disassociate, delete')
def _():
    public = conn.network.find_network('public', ignore_missing=False)
    fip = conn.network.create_ip(floating_network_id=public.id)
    check(fip.status in ('DOWN', 'ACTIVE') and fip.port_id is None, 'new floating IP %s' % fip)
    port = next(conn.network.ports(device_id=state['server'].id))
    fip = conn.network.update_ip(fip, port_id=port.id)
    check(fip.port_id == port.id and fip.fixed_ip_address == port.fixed_ips[0]['ip_address'], 'associated %s' % fip)
    addresses = conn.compute.get_server(state['server'].id).addresses
    floating = [a['addr'] for nets in addresses.values() for a in nets if a.get('OS-EXT-IPS:type') == 'floating']
    check(fip.floating_ip_address in floating, 'the server shows its floating IP: %s' % addresses)
    fip = conn.network.update_ip(fip, port_id=None)
    check(fip.port_id is None and fip.fixed_ip_address is None, 'disassociated %s' % fip)
    conn.network.delete_ip(fip, ignore_missing=False)
    check(conn.network.find_ip(fip.id) is None, 'deleted')


@step('usage paging (2.40): marker walks every server once, then an empty page; unknown marker is 400')
def _():
    project = conn.current_project_id
    start = (datetime.datetime.utcnow() - datetime.timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%S')
    end = (datetime.datetime.utcnow() + datetime.timedelta(hours=5)).strftime('%Y-%m-%dT%H:%M:%S')
    base = '/os-simple-tenant-usage/%s?start=%s&end=%s&detailed=1&limit=1' % (project, start, end)
    seen, marker = [], None
    for _page in range(50):
        r = conn.compute.get(base + ('&marker=' + marker if marker else ''), microversion='2.40')
        check(r.status_code == 200, 'page: %s %s' % (r.status_code, r.text))
        usages = r.json()['tenant_usage'].get('server_usages', [])
        if not usages:
            break
        seen.append(usages[0]['instance_id'])
        marker = usages[0]['instance_id']
    else:
        raise AssertionError('no empty page after 50 pages')
    check(len(seen) == len(set(seen)) and state['server'].id in seen, 'pages %s' % seen)
    total = conn.compute.get_usage(project, start=start, end=end)
    check(total.total_hours < 6, 'usage stops at now: %s hours' % total.total_hours)
    bad = conn.compute.get(base + '&marker=00000000-0000-0000-0000-000000000000', microversion='2.40')
    check(bad.status_code == 400, 'unknown marker: %s' % bad.status_code)


@step('server delete')
def _():
    conn.compute.delete_server(state['server'])
    conn.compute.wait_for_delete(state['server'], wait=120, interval=1)
    conn.image.delete_image(state['image'], ignore_missing=False)
