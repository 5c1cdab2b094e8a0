import type { FastifyInstance } from 'fastify';
import type { ComputeService } from '../../services/compute/index.js';
import { enforce } from '../../services/policy.js';
import { badRequest, CloudError } from '../../errors.js';
import { randomSecret } from '../../util/ids.js';
import { ServerService } from '../../services/compute/servers.js';
import { parseDiskConfig } from '../../services/compute/disk-config.js';
import { ctxOf } from '../http/service-api.js';
import { invalid, member, onlyKeys, str, stringMap, type Json } from './body.js';
import { mv } from './microversion.js';
import type { ComputeViews } from './views.js';
import type { ActionHandler } from './proxy-routes.js';
import { op, type ActionPolicy } from '../http/route-policy.js';

/** Makes a remote console URL for a checked instance (src/services/console); throws ConsoleTypeUnavailable. */
export type ConsoleUrlMaker = (instanceId: string, host: string, type: string) => Promise<string>;

/** Nova's rule for each server action (the body's one key); unknown actions meet the handler's 400. */
const SERVER_ACTIONS: ActionPolicy = {
  byAction: {
    pause: 'compute:os-pause-server:pause', unpause: 'compute:os-pause-server:unpause',
    suspend: 'compute:os-suspend-server:suspend', resume: 'compute:os-suspend-server:resume',
    'os-stop': 'compute:servers:stop', 'os-start': 'compute:servers:start', reboot: 'compute:servers:reboot',
    rebuild: 'compute:servers:rebuild', lock: 'compute:os-lock-server:lock', unlock: 'compute:os-lock-server:unlock',
    shelve: 'compute:os-shelve:shelve', shelveOffload: 'compute:os-shelve:shelve_offload', unshelve: 'compute:os-shelve:unshelve',
    createImage: 'compute:servers:create_image', createBackup: 'compute:os-create-backup',
    resize: 'compute:servers:resize', confirmResize: 'compute:servers:confirm_resize', revertResize: 'compute:servers:revert_resize',
    migrate: 'compute:os-migrate-server:migrate', 'os-migrateLive': 'compute:os-migrate-server:migrate_live',
    'os-resetState': 'compute:os-admin-actions:reset_state', rescue: 'compute:os-rescue', unrescue: 'compute:os-unrescue',
    'os-getConsoleOutput': 'compute:os-console-output', 'os-getVNCConsole': 'compute:os-remote-consoles',
    'os-getSPICEConsole': 'compute:os-remote-consoles', 'os-getRDPConsole': 'compute:os-remote-consoles',
    'os-getSerialConsole': 'compute:os-remote-consoles', changePassword: 'compute:os-admin-password',
    trigger_crash_dump: 'compute:servers:trigger_crash_dump', forceDelete: 'compute:os-deferred-delete:force',
    restore: 'compute:os-deferred-delete:restore',
    addSecurityGroup: 'compute:os-security-groups:add', removeSecurityGroup: 'compute:os-security-groups:remove',
    addFloatingIp: 'compute:os-floating-ips:add', removeFloatingIp: 'compute:os-floating-ips:remove',
  },
  otherwise: 'compute:servers:show',
};

/** POST /servers/{id}/action and the remote-consoles resource. */
export function actionRoutes(app: FastifyInstance, compute: ComputeService, v: ComputeViews, extra: Record<string, ActionHandler> = {}, consoleUrlOf?: ConsoleUrlMaker): void {
  const act = compute.serverActions;
  // Only noVNC is served (src/api/console); the serial console is not enabled, as Nova answers then.
  const consoleUrl = async (ctx: Parameters<typeof act.checkConsole>[0], id: string, kind: string, type: string): Promise<string> => {
    const inst = await act.checkConsole(ctx, id);
    if (kind !== 'vnc' || !consoleUrlOf) throw new CloudError('BadRequest', `Unavailable console type ${type}.`, { code: 'ConsoleTypeUnavailable' });
    return consoleUrlOf(inst.id, inst.host!, type);
  };

  app.post('/servers/:id/action', op(SERVER_ACTIONS), async (req, reply) => {
    const a = ctxOf(req).auth;
    const id = (req.params as { id: string }).id;
    const rid = req.id;
    const ver = mv(req);
    const body = req.body as Json | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length === 0) throw badRequest('Malformed request body');
    const name = Object.keys(body)[0]!;
    const arg = body[name];
    const obj = (): Json => (arg && typeof arg === 'object' && !Array.isArray(arg) ? arg as Json : member(body, name));
    reply.code(202);
    switch (name) {
      case 'pause': await act.pause(a, rid, id); return reply.send();
      case 'unpause': await act.unpause(a, rid, id); return reply.send();
      case 'suspend': await act.suspend(a, rid, id); return reply.send();
      case 'resume': await act.resume(a, rid, id); return reply.send();
      case 'os-stop': await act.stop(a, rid, id); return reply.send();
      case 'os-start': await act.start(a, rid, id); return reply.send();
      case 'reboot': {
        const o = obj();
        const type = String(o.type ?? '').toUpperCase();
        if (type !== 'SOFT' && type !== 'HARD') throw invalid('type', o.type, "is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']");
        await act.reboot(a, rid, id, type);
        return reply.send();
      }
      case 'rebuild': {
        const o = obj();
        onlyKeys(o, ['imageRef', 'name', 'adminPass', 'metadata', 'preserve_ephemeral', 'OS-DCF:diskConfig', 'accessIPv4', 'accessIPv6', 'personality',
          ...(ver.atLeast('2.19') ? ['description'] : []), ...(ver.atLeast('2.54') ? ['key_name'] : []), ...(ver.atLeast('2.57') ? ['user_data'] : []),
          ...(ver.atLeast('2.63') ? ['trusted_image_certificates'] : []), ...(ver.atLeast('2.90') ? ['hostname'] : [])], 'rebuild');
        const imageRef = str(o, 'imageRef', { required: true, min: 1 })!;
        const nm = str(o, 'name', { min: 1, max: 255 }) ?? undefined;
        if (nm !== undefined && nm.trim() === '') throw invalid('name', nm);
        const userData = 'user_data' in o ? str(o, 'user_data', { nullable: true }) ?? null : undefined;
        if (typeof userData === 'string') ServerService.checkUserData(userData);
        const inst = await act.rebuild(a, rid, id, {
          imageRef, name: nm, metadata: stringMap(o, 'metadata'), keyName: 'key_name' in o ? str(o, 'key_name', { nullable: true }) ?? null : undefined,
          userData, description: 'description' in o ? str(o, 'description', { nullable: true, max: 255 }) ?? null : undefined,
          hostname: str(o, 'hostname') ?? undefined, accessIPv4: str(o, 'accessIPv4', { nullable: true }), accessIPv6: str(o, 'accessIPv6', { nullable: true }),
          diskConfig: parseDiskConfig(o['OS-DCF:diskConfig']),
        });
        const view = v.server(inst, ver, a, { minimal: !ver.atLeast('2.75'), groups: true });
        // Rebuild adds key_name (2.54) and user_data (2.57) to its plain view; from 2.75 it is show's view with user_data.
        if (ver.atLeast('2.54')) view.key_name = inst.key_name;
        if (ver.atLeast('2.57')) view.user_data = inst.user_data;
        delete view['OS-EXT-SRV-ATTR:user_data'];
        return reply.send({ server: { ...view, adminPass: str(o, 'adminPass') ?? randomSecret(9).slice(0, 12) } });
      }
      case 'lock': {
        let reason: string | null = null;
        if (arg && typeof arg === 'object') {
          onlyKeys(arg as Json, ver.atLeast('2.73') ? ['locked_reason'] : [], 'lock');
          reason = str(arg as Json, 'locked_reason', { max: 255 }) ?? null;
        }
        await act.lock(a, rid, id, reason);
        return reply.send();
      }
      case 'unlock': await act.unlock(a, rid, id); return reply.send();
      case 'shelve': await act.shelve(a, rid, id); return reply.send();
      case 'shelveOffload': await act.shelveOffload(a, rid, id); return reply.send();
      case 'unshelve': {
        let az: string | null = null;
        if (arg && typeof arg === 'object') {
          if (!ver.atLeast('2.77')) throw badRequest("Invalid input for field/attribute unshelve. Value is not of type 'null'");
          az = str(arg as Json, 'availability_zone', { nullable: true }) ?? null;
        }
        await act.unshelve(a, rid, id, az);
        return reply.send();
      }
      case 'createImage':
      case 'createBackup': {
        const o = obj();
        const nm = str(o, 'name', { required: true, min: 1, max: 255 })!;
        if (nm.trim() === '') throw invalid('name', nm);
        const md = stringMap(o, 'metadata') ?? {};
        let backup: { type: string; rotation: number } | undefined;
        if (name === 'createBackup') {
          const type = str(o, 'backup_type', { required: true })!;
          const rot = o.rotation;
          if (rot === undefined || rot === null || typeof rot === 'boolean' || rot === '' || !Number.isInteger(Number(rot)) || Number(rot) < 0) throw invalid('rotation', rot ?? null);
          backup = { type, rotation: Number(rot) };
        }
        const imageId = await act.createImage(a, rid, id, nm, md, name, backup);
        reply.header('location', `${v.root.replace(/\/compute$/, '/image')}/v2/images/${imageId}`);
        return reply.send(ver.atLeast('2.45') ? { image_id: imageId } : undefined);
      }
      case 'resize': {
        const o = obj();
        onlyKeys(o, ['flavorRef', 'OS-DCF:diskConfig'], 'resize');
        const fr = o.flavorRef;
        if (fr === undefined || (typeof fr !== 'string' && typeof fr !== 'number') || String(fr) === '') throw invalid('flavorRef', fr ?? null);
        await act.resize(a, rid, id, String(fr).replace(/^.*\/flavors\//, ''), { diskConfig: parseDiskConfig(o['OS-DCF:diskConfig']) });
        return reply.send();
      }
      case 'confirmResize': await act.confirmResize(a, rid, id); return reply.code(204).send();
      case 'revertResize': await act.revertResize(a, rid, id); return reply.send();
      case 'migrate': {
        enforce(a, 'compute:admin');
        const host = arg && typeof arg === 'object' && ver.atLeast('2.56') ? str(arg as Json, 'host', { nullable: true }) ?? null : null;
        await act.resize(a, rid, id, null, { host });
        return reply.send();
      }
      case 'os-migrateLive': {
        enforce(a, 'compute:admin');
        const o = obj();
        const host = str(o, 'host', { nullable: true }) ?? null;
        await act.liveMigrate(a, rid, id, host);
        return reply.send();
      }
      case 'os-resetState': {
        enforce(a, 'compute:admin');
        const o = obj();
        const st = o.state;
        if (st !== 'active' && st !== 'error') throw invalid('state', st, "is not one of ['active', 'error']");
        await act.resetState(a, rid, id, st);
        return reply.send();
      }
      case 'rescue': {
        const o = arg && typeof arg === 'object' ? arg as Json : {};
        const ref = str(o, 'rescue_image_ref') ?? null;
        await act.rescue(a, rid, id, ref);
        return reply.code(200).send({ adminPass: str(o, 'adminPass') ?? randomSecret(9).slice(0, 12) });
      }
      case 'unrescue': await act.unrescue(a, rid, id); return reply.send();
      case 'os-getConsoleOutput': {
        const o = arg && typeof arg === 'object' ? arg as Json : {};
        let length: number | null = null;
        if (o.length !== undefined && o.length !== null) {
          const n = Number(o.length);
          if (!Number.isInteger(n) || n < -1) throw invalid('length', o.length);
          length = n === -1 ? null : n;
        }
        return reply.code(200).send({ output: await act.consoleOutput(a, id, length) });
      }
      case 'os-getVNCConsole':
      case 'os-getSPICEConsole':
      case 'os-getRDPConsole':
      case 'os-getSerialConsole': {
        if (ver.atLeast('2.6')) throw new CloudError('NotFound', 'The resource could not be found.');
        const o = obj();
        const type = String(o.type ?? '');
        const kind = name === 'os-getSerialConsole' ? 'serial' : name === 'os-getVNCConsole' ? 'vnc' : name === 'os-getSPICEConsole' ? 'spice' : 'rdp';
        const okTypes: Record<string, string[]> = { vnc: ['novnc', 'xvpvnc'], spice: ['spice-html5'], rdp: ['rdp-html5'], serial: ['serial'] };
        if (!okTypes[kind]!.includes(type)) throw badRequest(`Invalid input for field/attribute type. Value: ${type}.`);
        return reply.code(200).send({ console: { type, url: await consoleUrl(a, id, kind, type) } });
      }
      case 'changePassword': {
        const o = obj();
        str(o, 'adminPass', { required: true });
        await act.changePassword(a, rid, id);
        return reply.send();
      }
      case 'trigger_crash_dump': {
        if (!ver.atLeast('2.17')) throw badRequest('Invalid server action: trigger_crash_dump');
        await act.triggerCrashDump(a, rid, id);
        return reply.send();
      }
      case 'forceDelete': await act.delete(a, rid, id, true); return reply.send();
      case 'restore': {
        const inst = await compute.servers.get(a, id);
        (await import('../../services/compute/states.js')).checkState('restore', inst);
        return reply.send();
      }
      default: {
        const handler = Object.hasOwn(extra, name) ? extra[name] : undefined;
        if (!handler) throw badRequest(`There is no such action: ${name}`);
        await handler(req, id, arg);
        return reply.send();
      }
    }
  });

  app.post('/servers/:id/remote-consoles', op('compute:os-remote-consoles'), async (req, reply) => {
    const a = ctxOf(req).auth;
    const id = (req.params as { id: string }).id;
    if (!mv(req).atLeast('2.6')) throw new CloudError('NotFound', 'The resource could not be found.');
    const o = member(req.body, 'remote_console');
    const protocol = String(o.protocol ?? '');
    const type = String(o.type ?? '');
    const valid: Record<string, string[]> = { vnc: ['novnc', 'xvpvnc'], spice: ['spice-html5'], serial: ['serial'], rdp: ['rdp-html5'], mks: ['webmks'] };
    if (!valid[protocol]) throw invalid('protocol', protocol);
    if (!valid[protocol]!.includes(type)) throw invalid('type', type);
    return reply.code(200).send({ remote_console: { protocol, type, url: await consoleUrl(a, id, protocol, type) } });
  });
}
