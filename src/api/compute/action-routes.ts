import type { FastifyInstance } from 'fastify';
import type { ComputeService } from '../../services/compute/index.js';
import { enforce } from '../../services/policy.js';
import { badRequest, CloudError } from '../../errors.js';
import { randomSecret } from '../../util/ids.js';
import { ctxOf } from '../http/service-api.js';
import { ServerActionBody, serverActionVersions } from './schemas/actions.js';
import { toInt } from './schemas/common.js';
import { RemoteConsoleBody } from './schemas/servers.js';
import { versioned } from './schemas/versions.js';
import { accessIps, flavorIdOf, invalidField } from './server-specs.js';
import { mv } from './microversion.js';
import type { ComputeViews } from './views.js';
import type { ActionHandler } from './proxy-routes.js';
import { op, type ActionPolicy } from '../http/route-policy.js';

/** Makes a remote console URL for a checked instance (src/services/console); throws ConsoleTypeUnavailable. */
export type ConsoleUrlMaker = (instanceId: string, host: string, type: string) => Promise<string>;

/** Nova's rule for each server action (the body's one key); unknown actions meet the handler's 400. */
const SERVER_ACTIONS: ActionPolicy = {
  byAction: {
    pause: 'compute:os-pause-server:pause',
    unpause: 'compute:os-pause-server:unpause',
    suspend: 'compute:os-suspend-server:suspend',
    resume: 'compute:os-suspend-server:resume',
    'os-stop': 'compute:servers:stop',
    'os-start': 'compute:servers:start',
    reboot: 'compute:servers:reboot',
    rebuild: 'compute:servers:rebuild',
    lock: 'compute:os-lock-server:lock',
    unlock: 'compute:os-lock-server:unlock',
    shelve: 'compute:os-shelve:shelve',
    shelveOffload: 'compute:os-shelve:shelve_offload',
    unshelve: 'compute:os-shelve:unshelve',
    createImage: 'compute:servers:create_image',
    createBackup: 'compute:os-create-backup',
    resize: 'compute:servers:resize',
    confirmResize: 'compute:servers:confirm_resize',
    revertResize: 'compute:servers:revert_resize',
    migrate: 'compute:os-migrate-server:migrate',
    'os-migrateLive': 'compute:os-migrate-server:migrate_live',
    'os-resetState': 'compute:os-admin-actions:reset_state',
    rescue: 'compute:os-rescue',
    unrescue: 'compute:os-unrescue',
    'os-getConsoleOutput': 'compute:os-console-output',
    'os-getVNCConsole': 'compute:os-remote-consoles',
    'os-getSPICEConsole': 'compute:os-remote-consoles',
    'os-getRDPConsole': 'compute:os-remote-consoles',
    'os-getSerialConsole': 'compute:os-remote-consoles',
    changePassword: 'compute:os-admin-password',
    trigger_crash_dump: 'compute:servers:trigger_crash_dump',
    forceDelete: 'compute:os-deferred-delete:force',
    restore: 'compute:os-deferred-delete:restore',
    addSecurityGroup: 'compute:os-security-groups:add',
    removeSecurityGroup: 'compute:os-security-groups:remove',
    addFloatingIp: 'compute:os-floating-ips:add',
    removeFloatingIp: 'compute:os-floating-ips:remove',
  },
  otherwise: 'compute:servers:show',
};

/** The console types each protocol offers (Nova's remote-consoles and the older os-get*Console actions). */
const CONSOLE_TYPES: Record<string, string[]> = {
  vnc: ['novnc', 'xvpvnc'],
  spice: ['spice-html5'],
  serial: ['serial'],
  rdp: ['rdp-html5'],
  mks: ['webmks'],
};
const CONSOLE_KINDS: Record<string, string> = {
  'os-getVNCConsole': 'vnc',
  'os-getSPICEConsole': 'spice',
  'os-getRDPConsole': 'rdp',
  'os-getSerialConsole': 'serial',
};

/** POST /servers/{id}/action and the remote-consoles resource. */
export function actionRoutes(
  app: FastifyInstance,
  compute: ComputeService,
  v: ComputeViews,
  extra: Record<string, ActionHandler> = {},
  consoleUrlOf?: ConsoleUrlMaker,
): void {
  const act = compute.serverActions;
  // Only noVNC is served (src/api/console); the serial console is not enabled, as Nova answers then.
  const consoleUrl = async (
    ctx: Parameters<typeof act.checkConsole>[0],
    id: string,
    kind: string,
    type: string,
  ): Promise<string> => {
    const inst = await act.checkConsole(ctx, id);
    if (kind !== 'vnc' || !consoleUrlOf)
      throw new CloudError('BadRequest', `Unavailable console type ${type}.`, { code: 'ConsoleTypeUnavailable' });
    return consoleUrlOf(inst.id, inst.host!, type);
  };

  app.post(
    '/servers/:id/action',
    op(SERVER_ACTIONS, { schema: { body: ServerActionBody }, ...versioned(serverActionVersions) }),
    async (req, reply) => {
      const a = ctxOf(req).auth;
      const id = (req.params as { id: string }).id;
      const rid = req.id;
      const ver = mv(req);
      const body = req.body as ServerActionBody;
      const name = Object.keys(body)[0]!;
      reply.code(202);
      switch (name) {
        case 'pause':
          await act.pause(a, rid, id);
          return reply.send();
        case 'unpause':
          await act.unpause(a, rid, id);
          return reply.send();
        case 'suspend':
          await act.suspend(a, rid, id);
          return reply.send();
        case 'resume':
          await act.resume(a, rid, id);
          return reply.send();
        case 'os-stop':
          await act.stop(a, rid, id);
          return reply.send();
        case 'os-start':
          await act.start(a, rid, id);
          return reply.send();
        case 'reboot':
          await act.reboot(a, rid, id, body.reboot!.type.toUpperCase() as 'SOFT' | 'HARD');
          return reply.send();
        case 'rebuild': {
          const o = body.rebuild!;
          const inst = await act.rebuild(a, rid, id, {
            imageRef: o.imageRef,
            name: o.name,
            metadata: o.metadata,
            keyName: 'key_name' in o ? (o.key_name ?? null) : undefined,
            userData: 'user_data' in o ? (o.user_data ?? null) : undefined,
            description: 'description' in o ? (o.description ?? null) : undefined,
            hostname: o.hostname,
            ...accessIps(o),
            diskConfig: o['OS-DCF:diskConfig'],
          });
          const view = v.server(inst, ver, a, { minimal: !ver.atLeast('2.75'), groups: true });
          // Rebuild adds key_name (2.54) and user_data (2.57) to its plain view; from 2.75 it is show's view with
          // user_data.
          if (ver.atLeast('2.54')) view.key_name = inst.key_name;
          if (ver.atLeast('2.57')) view.user_data = inst.user_data;
          delete view['OS-EXT-SRV-ATTR:user_data'];
          return reply.send({ server: { ...view, adminPass: o.adminPass ?? randomSecret(9).slice(0, 12) } });
        }
        case 'lock':
          await act.lock(a, rid, id, body.lock?.locked_reason ?? null);
          return reply.send();
        case 'unlock':
          await act.unlock(a, rid, id);
          return reply.send();
        case 'shelve':
          await act.shelve(a, rid, id);
          return reply.send();
        case 'shelveOffload':
          await act.shelveOffload(a, rid, id);
          return reply.send();
        case 'unshelve':
          await act.unshelve(a, rid, id, body.unshelve?.availability_zone ?? null);
          return reply.send();
        case 'createImage':
        case 'createBackup': {
          const o = name === 'createImage' ? body.createImage! : body.createBackup!;
          const backup = body.createBackup
            ? { type: body.createBackup.backup_type, rotation: toInt(body.createBackup.rotation) }
            : undefined;
          const imageId = await act.createImage(a, rid, id, o.name, o.metadata ?? {}, name, backup);
          reply.header('location', `${v.root.replace(/\/compute$/, '/image')}/v2/images/${imageId}`);
          return reply.send(ver.atLeast('2.45') ? { image_id: imageId } : undefined);
        }
        case 'resize': {
          const o = body.resize!;
          await act.resize(a, rid, id, flavorIdOf(o.flavorRef), { diskConfig: o['OS-DCF:diskConfig'] });
          return reply.send();
        }
        case 'confirmResize':
          await act.confirmResize(a, rid, id);
          return reply.code(204).send();
        case 'revertResize':
          await act.revertResize(a, rid, id);
          return reply.send();
        case 'migrate': {
          enforce(a, 'compute:admin');
          await act.resize(a, rid, id, null, { host: body.migrate?.host ?? null });
          return reply.send();
        }
        case 'os-migrateLive': {
          enforce(a, 'compute:admin');
          await act.liveMigrate(a, rid, id, body['os-migrateLive']!.host ?? null);
          return reply.send();
        }
        case 'os-resetState': {
          enforce(a, 'compute:admin');
          await act.resetState(a, rid, id, body['os-resetState']!.state);
          return reply.send();
        }
        case 'rescue': {
          await act.rescue(a, rid, id, body.rescue?.rescue_image_ref ?? null);
          return reply.code(200).send({ adminPass: body.rescue?.adminPass ?? randomSecret(9).slice(0, 12) });
        }
        case 'unrescue':
          await act.unrescue(a, rid, id);
          return reply.send();
        case 'os-getConsoleOutput': {
          const n = toInt(body['os-getConsoleOutput']?.length) ?? -1;
          return reply.code(200).send({ output: await act.consoleOutput(a, id, n === -1 ? null : n) });
        }
        case 'os-getVNCConsole':
        case 'os-getSPICEConsole':
        case 'os-getRDPConsole':
        case 'os-getSerialConsole': {
          if (ver.atLeast('2.6')) throw new CloudError('NotFound', 'The resource could not be found.');
          const type = body[name]!.type;
          const kind = CONSOLE_KINDS[name]!;
          if (!CONSOLE_TYPES[kind]!.includes(type))
            throw badRequest(`Invalid input for field/attribute type. Value: ${type}.`);
          return reply.code(200).send({ console: { type, url: await consoleUrl(a, id, kind, type) } });
        }
        case 'changePassword':
          await act.changePassword(a, rid, id);
          return reply.send();
        case 'trigger_crash_dump': {
          if (!ver.atLeast('2.17')) throw badRequest('Invalid server action: trigger_crash_dump');
          await act.triggerCrashDump(a, rid, id);
          return reply.send();
        }
        case 'forceDelete':
          await act.delete(a, rid, id, true);
          return reply.send();
        case 'restore': {
          const inst = await compute.servers.get(a, id);
          (await import('../../services/compute/states.js')).checkState('restore', inst);
          return reply.send();
        }
        default: {
          const handler = Object.hasOwn(extra, name) ? extra[name] : undefined;
          if (!handler) throw badRequest(`There is no such action: ${name}`);
          await handler(req, id, (body as Record<string, unknown>)[name]);
          return reply.send();
        }
      }
    },
  );

  app.post(
    '/servers/:id/remote-consoles',
    op('compute:os-remote-consoles', { schema: { body: RemoteConsoleBody } }),
    async (req, reply) => {
      const a = ctxOf(req).auth;
      const id = (req.params as { id: string }).id;
      if (!mv(req).atLeast('2.6')) throw new CloudError('NotFound', 'The resource could not be found.');
      const { protocol, type } = (req.body as RemoteConsoleBody).remote_console;
      if (!CONSOLE_TYPES[protocol]!.includes(type)) throw invalidField('type', type);
      return reply.code(200).send({ remote_console: { protocol, type, url: await consoleUrl(a, id, protocol, type) } });
    },
  );
}
