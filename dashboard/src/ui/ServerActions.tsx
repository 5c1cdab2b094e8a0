import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { allowedActions, type SERVER_ACTIONS } from '../api/actions';
import { call } from '../api/client';
import type { Server } from '../api/types';
import { useT, type MessageKey } from '../i18n';

type Action = (typeof SERVER_ACTIONS)[number];

/** The actions the state table allows for one server, as a keyboard-usable disclosure menu. */
export function ServerActions({ server, onError, onDone }: { server: Server; onError: (e: unknown) => void; onDone?: (a: Action) => void }) {
  const t = useT();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const run = useMutation({
    mutationFn: async (a: Action) => {
      if (a.key === 'delete') await call('compute', `/servers/${server.id}`, { method: 'DELETE' });
      else await call('compute', `/servers/${server.id}/action`, { method: 'POST', body: a.body });
      return a;
    },
    onSuccess: (a) => { onError(null); onDone?.(a); },
    onError,
    // Either way the list is re-read, so the table shows what the server says, not what we hoped.
    onSettled: async (a) => {
      await client.invalidateQueries({ queryKey: ['servers'] });
      if (a?.key === 'delete') for (const k of ['ports', 'floatingips', 'quota-compute', 'quota-network']) void client.invalidateQueries({ queryKey: [k] });
    },
  });
  const actions = allowedActions(server);
  return (
    <details className="menu" open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary aria-label={t('instances.actionsFor', { name: server.name })}>{t('instances.actions')}</summary>
      <div className="menu-items">
        {actions.length === 0 && <span className="muted">{t('instances.noActions')}</span>}
        {actions.map((a) => (
          <button
            key={a.key}
            type="button"
            className={a.key === 'delete' ? 'danger' : undefined}
            disabled={run.isPending}
            onClick={() => {
              if (a.key === 'delete' && !window.confirm(t('instances.confirmDelete', { name: server.name }))) return;
              setOpen(false);
              run.mutate(a);
            }}
          >
            {t(`action.${a.key}` as MessageKey)}
          </button>
        ))}
      </div>
    </details>
  );
}
