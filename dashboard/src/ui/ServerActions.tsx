import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { allowedActions, type SERVER_ACTIONS } from '../api/actions';
import { call } from '../api/client';
import type { Server } from '../api/types';
import { useT, type MessageKey } from '../i18n';

type Action = (typeof SERVER_ACTIONS)[number];

type Props = { server: Server; onError: (e: unknown) => void; onDone?: (a: Action) => void };

/**
 * The actions the state table allows for one server, as a keyboard-usable disclosure menu. The menu's body (with
 * its mutation) mounts only when opened: a table of many servers stays cheap to render.
 */
export function ServerActions(props: Props) {
  const t = useT();
  const [open, setOpen] = useState(false);
  return (
    <details className="menu" open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary aria-label={t('instances.actionsFor', { name: props.server.name })}>{t('instances.actions')}</summary>
      {open && <ActionItems {...props} close={() => setOpen(false)} />}
    </details>
  );
}

function ActionItems({ server, onError, onDone, close }: Props & { close: () => void }) {
  const t = useT();
  const client = useQueryClient();
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
              close();
              run.mutate(a);
            }}
          >
            {t(`action.${a.key}` as MessageKey)}
          </button>
        ))}
      </div>
  );
}
