import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { call, send } from '../api/client';
import { useSecurityGroups } from '../api/queries';
import { canWrite, useSession } from '../api/session';
import type { SecurityGroup, SecurityGroupRule } from '../api/types';
import { ErrorNote } from '../ui/ErrorNote';
import { useT } from '../i18n';

function ports(r: SecurityGroupRule): string {
  if (r.port_range_min === null) return 'any';
  return r.port_range_min === r.port_range_max ? String(r.port_range_min) : `${r.port_range_min}-${r.port_range_max}`;
}

/** One group's rules with an add-rule row: the rules editor. */
function RulesEditor({ group, writable }: { group: SecurityGroup; writable: boolean }) {
  const t = useT();
  const client = useQueryClient();
  const [direction, setDirection] = useState<'ingress' | 'egress'>('ingress');
  const [protocol, setProtocol] = useState('tcp');
  const [portRange, setPortRange] = useState('22');
  const [cidr, setCidr] = useState('0.0.0.0/0');
  const done = { onSettled: () => client.invalidateQueries({ queryKey: ['security-groups'] }) };
  const add = useMutation({
    mutationFn: () => {
      const [lo, hi] = portRange.split('-').map((x) => Number(x.trim()));
      const withPorts = (protocol === 'tcp' || protocol === 'udp') && portRange.trim() !== '';
      return send('network', 'POST', '/v2.0/security-group-rules', {
        security_group_rule: {
          security_group_id: group.id, direction, ethertype: 'IPv4',
          ...(protocol !== 'any' ? { protocol } : {}),
          ...(withPorts ? { port_range_min: lo, port_range_max: hi ?? lo } : {}),
          ...(cidr ? { remote_ip_prefix: cidr } : {}),
        },
      });
    },
    ...done,
  });
  const del = useMutation({ mutationFn: (id: string) => call('network', `/v2.0/security-group-rules/${id}`, { method: 'DELETE' }), ...done });
  return (
    <div className="card">
      <h2>{group.name} <span className="muted">{group.description}</span></h2>
      <ErrorNote error={add.error ?? del.error} />
      <div className="table-wrap"><table>
        <thead><tr><th>{t('sg.direction')}</th><th>{t('sg.ethertype')}</th><th>{t('sg.protocol')}</th><th>{t('sg.ports')}</th><th>{t('sg.remote')}</th><th></th></tr></thead>
        <tbody>
          {group.security_group_rules.map((r) => (
            <tr key={r.id}><td>{r.direction}</td><td>{r.ethertype}</td><td>{r.protocol ?? 'any'}</td><td>{ports(r)}</td><td>{r.remote_ip_prefix ?? (r.remote_group_id ? `group ${r.remote_group_id.slice(0, 8)}` : 'any')}</td>
              <td>{writable && <button type="button" className="danger" onClick={() => del.mutate(r.id)}>{t('action.delete')}</button>}</td></tr>
          ))}
          {writable && (
            <tr className="add-row">
              <td><select aria-label={t('sg.direction')} value={direction} onChange={(e) => setDirection(e.target.value as 'ingress' | 'egress')}><option>ingress</option><option>egress</option></select></td>
              <td>IPv4</td>
              <td><select aria-label={t('sg.protocol')} value={protocol} onChange={(e) => setProtocol(e.target.value)}>{['tcp', 'udp', 'icmp', 'any'].map((p) => <option key={p}>{p}</option>)}</select></td>
              <td><input aria-label={t('sg.ports')} value={portRange} onChange={(e) => setPortRange(e.target.value)} size={8} /></td>
              <td><input aria-label={t('sg.remote')} value={cidr} onChange={(e) => setCidr(e.target.value)} size={14} /></td>
              <td><button type="button" onClick={() => add.mutate()} disabled={add.isPending}>{t('sg.addRule')}</button></td>
            </tr>
          )}
        </tbody>
      </table></div>
    </div>
  );
}

export function SecurityGroups() {
  const s = useSession();
  const t = useT();
  const client = useQueryClient();
  const groups = useSecurityGroups();
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => send('network', 'POST', '/v2.0/security-groups', { security_group: { name, description: '' } }),
    onSuccess: () => setName(''),
    onSettled: () => client.invalidateQueries({ queryKey: ['security-groups'] }),
  });
  return (
    <section>
      <h1>{t('nav.securityGroups')}</h1>
      {canWrite(s) && (
        <form className="card inline" onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
          <label>{t('common.name')}<input value={name} onChange={(e) => setName(e.target.value)} required /></label>
          <button type="submit" disabled={!name}>{t('action.create')}</button>
          <ErrorNote error={create.error} />
        </form>
      )}
      <ErrorNote error={groups.error} onRetry={() => void groups.refetch()} />
      {(groups.data ?? []).map((g) => <RulesEditor key={g.id} group={g} writable={canWrite(s) && g.project_id === s.project.id} />)}
    </section>
  );
}
