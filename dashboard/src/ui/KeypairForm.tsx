import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { send } from '../api/client';
import type { Keypair } from '../api/types';
import { download } from './format';
import { ErrorNote } from './ErrorNote';
import { useT } from '../i18n';

/**
 * Create a keypair (the private key is downloaded once, right away: Nova never returns it again and Gureum never
 * stores it) or import a public key.
 */
export function KeypairForm({ onCreated }: { onCreated?: (name: string) => void }) {
  const t = useT();
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const [mode, setMode] = useState<'create' | 'import'>('create');
  const [saved, setSaved] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: async () => {
      const body = mode === 'create' ? { keypair: { name } } : { keypair: { name, public_key: publicKey.trim() } };
      return (await send<{ keypair: Keypair & { private_key?: string } }>('compute', 'POST', '/os-keypairs', body)).keypair;
    },
    onSuccess: (k) => {
      if (k.private_key) {
        download(`${k.name}.pem`, k.private_key, 'application/x-pem-file');
        setSaved(k.name);
      }
      setName('');
      setPublicKey('');
      void client.invalidateQueries({ queryKey: ['keypairs'] });
      onCreated?.(k.name);
    },
  });
  return (
    <fieldset className="keypair-form">
      <legend>{t('keypairs.new')}</legend>
      <div className="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={mode === 'create'} onClick={() => setMode('create')}>{t('keypairs.create')}</button>
        <button type="button" role="tab" aria-selected={mode === 'import'} onClick={() => setMode('import')}>{t('keypairs.import')}</button>
      </div>
      <label>{t('common.name')}<input value={name} onChange={(e) => setName(e.target.value)} pattern="[A-Za-z0-9_ .@-]+" /></label>
      {mode === 'import' && <label>{t('keypairs.publicKey')}<textarea rows={3} value={publicKey} onChange={(e) => setPublicKey(e.target.value)} placeholder="ssh-ed25519 AAAA..." /></label>}
      <button type="button" disabled={!name || create.isPending || (mode === 'import' && !publicKey)} onClick={() => create.mutate()}>
        {mode === 'create' ? t('keypairs.createDownload') : t('keypairs.import')}
      </button>
      {saved && <p className="notice" role="status">{t('keypairs.downloadedOnce', { name: saved })}</p>}
      <ErrorNote error={create.error} />
    </fieldset>
  );
}
