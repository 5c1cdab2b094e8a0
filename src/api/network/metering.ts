// Neutron's metering extension: /v2.0/metering/metering-labels and /v2.0/metering/metering-label-rules (create, list,
// show, delete; Neutron has no update). A change re-plans the routers the label applies to, so the data plane's
// counting rules follow at once.
import type { FastifyInstance } from 'fastify';
import { SYSTEM_CONTEXT, type NetworkService } from '../../services/network/index.js';
import { registerResource } from './resource.js';

export function registerMetering(app: FastifyInstance, net: NetworkService, baseUrl: string): void {
  const m = net.metering;
  registerResource(app, net, baseUrl, {
    path: 'metering/metering-labels',
    member: 'metering_label',
    collection: 'metering_labels',
    list: (a, q) => m.listLabels(a, q.id),
    get: (a, id) => m.getLabel(a, id),
    views: async (_a, rows) => rows.map((r) => m.labelView(r)),
    create: (a, b) => m.createLabel(a, b),
    remove: async (a, id) => {
      const label = await m.getLabel(a, id);
      const routers = await m.routersOf(label);
      await m.deleteLabel(a, id);
      for (const r of routers) await net.publish('router', 'updated', r);
    },
    after: async (action, id) => {
      if (action !== 'deleted') await net.publishMetering(id);
    },
  });
  registerResource(app, net, baseUrl, {
    path: 'metering/metering-label-rules',
    member: 'metering_label_rule',
    collection: 'metering_label_rules',
    list: (a, q) => m.listRules(a, q.id),
    get: (a, id) => m.getRule(a, id),
    views: (_a, rows) => m.ruleViews(rows),
    create: (a, b) => m.createRule(a, b),
    remove: async (a, id) => {
      const rule = await m.deleteRule(a, id);
      await net.publishMetering(rule.label_id).catch(() => {});
    },
    after: async (action, id) => {
      if (action === 'created') await net.publishMetering((await m.getRule(SYSTEM_CONTEXT, id)).label_id);
    },
  });
}
