// Launch an instance, step by step as Horizon's wizard and the course's script do: details, source, flavor (with
// fit warnings), networks, security groups, keypair, user data, then a summary to confirm.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useLocation } from 'wouter';
import { send } from '../api/client';
import { useFlavors, useImages, useKeypairs, useNetworks, useSecurityGroups } from '../api/queries';
import { useSession } from '../api/session';
import type { Flavor, Image } from '../api/types';
import { useSnapshots, useVolumes, volumeLabel } from '../api/volumes';
import { ErrorNote } from '../ui/ErrorNote';
import { KeypairForm } from '../ui/KeypairForm';
import { NO_SOURCE, sourceBody, sourceProblem, type Source } from './launch/source';
import { SourceStep } from './launch/SourceStep';
import { useT, type MessageKey } from '../i18n';

const STEPS = ['details', 'source', 'flavor', 'networks', 'secgroups', 'keypair', 'userdata', 'summary'] as const;
type Step = (typeof STEPS)[number];

/** Why a flavor cannot hold an image (Nova would refuse with 400), or null. */
export function fitProblem(f: Flavor, img: Image | undefined, t: (k: MessageKey, v?: Record<string, string | number>) => string): string | null {
  if (!img) return null;
  const sizeGb = Math.ceil((img.size ?? 0) / 1024 ** 3);
  if (f.disk > 0 && f.disk < img.min_disk) return t('launch.fitMinDisk', { need: img.min_disk });
  if (f.disk > 0 && f.disk < sizeGb) return t('launch.fitSize', { need: sizeGb });
  if (f.ram < img.min_ram) return t('launch.fitMinRam', { need: img.min_ram });
  return null;
}

/** UTF-8 safe base64 for user_data. */
function base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

export function LaunchWizard() {
  const s = useSession();
  const t = useT();
  const [, navigate] = useLocation();
  const client = useQueryClient();
  const images = useImages();
  const flavors = useFlavors();
  const networks = useNetworks();
  const groups = useSecurityGroups();
  const keypairs = useKeypairs();
  const [step, setStep] = useState<Step>('details');
  const [name, setName] = useState('');
  const [count, setCount] = useState(1);
  const [src, setSrc] = useState<Source>(NO_SOURCE);
  const [flavorId, setFlavorId] = useState('');
  const [nets, setNets] = useState<string[]>([]);
  const [sgs, setSgs] = useState<string[]>(['default']);
  const [keyName, setKeyName] = useState('');
  const [userData, setUserData] = useState('');

  const volumes = useVolumes();
  const snapshots = useSnapshots();
  // The flavor's disk holds the root only when booting from an image; a root volume brings its own size.
  const image = src.kind === 'image' ? images.data?.find((i) => i.id === src.imageId) : undefined;
  const flavor = flavors.data?.find((f) => f.id === flavorId);
  const usableNets = (networks.data ?? []).filter((n) => !n['router:external'] || n.shared);
  const launch = useMutation({
    mutationFn: () => send('compute', 'POST', '/servers', {
      server: {
        name, ...sourceBody(src), flavorRef: flavorId, min_count: count, max_count: count,
        networks: nets.length ? nets.map((uuid) => ({ uuid })) : 'auto',
        security_groups: sgs.map((g) => ({ name: g })),
        ...(keyName ? { key_name: keyName } : {}),
        ...(userData ? { user_data: base64(userData) } : {}),
      },
    }),
    onSuccess: () => {
      // New servers bring new ports (and quota use): re-read everything they touch.
      for (const k of ['servers', 'ports', 'quota-compute', 'quota-network', 'volumes', 'quota-volume']) void client.invalidateQueries({ queryKey: [k] });
      navigate('/instances');
    },
  });

  const sourceSummary = (): string => {
    const kind = t(`launch.source.${src.kind}` as MessageKey);
    const what = src.kind === 'volume' ? (volumes.data ?? []).find((v) => v.id === src.volumeId)
      : src.kind === 'snapshot' ? (snapshots.data ?? []).find((x) => x.id === src.snapshotId) : undefined;
    const name = src.kind === 'image' || src.kind === 'image-volume' ? images.data?.find((i) => i.id === src.imageId)?.name : what && volumeLabel(what);
    const size = src.kind === 'image-volume' || src.kind === 'snapshot' ? `, ${src.volumeSize} GiB` : '';
    const dot = src.kind !== 'image' && src.deleteOnTermination ? `, ${t('launch.deleteOnTermination')}` : '';
    return `${kind}: ${name ?? '—'}${size}${dot}`;
  };
  const problems: Partial<Record<Step, string>> = {};
  if (!name.trim()) problems.details = t('launch.needName');
  const srcProblem = sourceProblem(src, images.data ?? [], snapshots.data ?? [], t);
  if (srcProblem) problems.source = srcProblem;
  if (!flavorId) problems.flavor = t('launch.needFlavor');
  else if (flavor && fitProblem(flavor, image, t)) problems.flavor = fitProblem(flavor, image, t)!;
  const idx = STEPS.indexOf(step);
  const firstProblem = STEPS.find((x) => problems[x]);

  return (
    <section className="wizard">
      <h1>{t('launch.title')}</h1>
      <ol className="steps">
        {STEPS.map((x, i) => (
          <li key={x}><button type="button" aria-current={x === step ? 'step' : undefined} onClick={() => setStep(x)}>{i + 1}. {t(`launch.step.${x}` as MessageKey)}{problems[x] ? ' •' : ''}</button></li>
        ))}
      </ol>
      <div className="step-body">
        {step === 'details' && (
          <>
            <label>{t('launch.name')}<input name="instance-name" value={name} onChange={(e) => setName(e.target.value)} autoFocus /></label>
            <label>{t('launch.count')}<input name="count" type="number" min={1} max={20} value={count} onChange={(e) => setCount(Math.max(1, Number(e.target.value) || 1))} /></label>
          </>
        )}
        {step === 'source' && <SourceStep src={src} onChange={setSrc} />}
        {step === 'flavor' && (
          <table className="pick"><thead><tr><th></th><th>{t('common.name')}</th><th>vCPU</th><th>RAM</th><th>{t('launch.disk')}</th><th></th></tr></thead>
            <tbody>{(flavors.data ?? []).slice().sort((a, b) => a.ram - b.ram).map((f) => {
              const p = fitProblem(f, image, t);
              return (
                <tr key={f.id} className={p ? 'unfit' : undefined}><td><input type="radio" name="flavor" aria-label={f.name} checked={flavorId === f.id} onChange={() => setFlavorId(f.id)} /></td>
                  <td>{f.name}</td><td>{f.vcpus}</td><td>{f.ram} MiB</td><td>{f.disk} GiB</td><td className="warn">{p ?? ''}</td></tr>);
            })}</tbody></table>
        )}
        {step === 'networks' && (
          <fieldset><legend>{t('launch.step.networks')}</legend>
            {usableNets.map((n) => (
              <label key={n.id} className="check"><input type="checkbox" checked={nets.includes(n.id)} onChange={(e) => setNets(e.target.checked ? [...nets, n.id] : nets.filter((x) => x !== n.id))} />{n.name} <span className="muted">{n.shared ? t('networks.shared') : ''}</span></label>
            ))}
            {nets.length === 0 && <p className="muted">{t('launch.autoNetwork')}</p>}
          </fieldset>
        )}
        {step === 'secgroups' && (
          <fieldset><legend>{t('launch.step.secgroups')}</legend>
            {(groups.data ?? []).filter((g) => g.project_id === s.project.id).map((g) => (
              <label key={g.id} className="check"><input type="checkbox" checked={sgs.includes(g.name)} onChange={(e) => setSgs(e.target.checked ? [...sgs, g.name] : sgs.filter((x) => x !== g.name))} />{g.name} <span className="muted">{g.description}</span></label>
            ))}
          </fieldset>
        )}
        {step === 'keypair' && (
          <>
            <label>{t('launch.keypair')}
              <select value={keyName} onChange={(e) => setKeyName(e.target.value)}>
                <option value="">{t('launch.noKeypair')}</option>
                {(keypairs.data ?? []).map((k) => <option key={k.name} value={k.name}>{k.name}</option>)}
              </select>
            </label>
            <KeypairForm onCreated={setKeyName} />
          </>
        )}
        {step === 'userdata' && (
          <label>{t('launch.userData')}<textarea rows={8} className="mono" value={userData} onChange={(e) => setUserData(e.target.value)} placeholder={'#!/bin/sh\necho hello'} /></label>
        )}
        {step === 'summary' && (
          <dl className="facts">
            <dt>{t('launch.name')}</dt><dd>{name || '—'} × {count}</dd>
            <dt>{t('launch.step.source')}</dt><dd>{sourceSummary()}</dd>
            <dt>{t('instances.flavor')}</dt><dd>{flavor ? `${flavor.name} (${flavor.vcpus} vCPU, ${flavor.ram} MiB, ${flavor.disk} GiB)` : '—'}</dd>
            <dt>{t('launch.step.networks')}</dt><dd>{nets.length ? usableNets.filter((n) => nets.includes(n.id)).map((n) => n.name).join(', ') : t('launch.autoNetwork')}</dd>
            <dt>{t('launch.step.secgroups')}</dt><dd>{sgs.join(', ')}</dd>
            <dt>{t('launch.keypair')}</dt><dd>{keyName || t('launch.noKeypair')}</dd>
            <dt>{t('launch.userData')}</dt><dd>{userData ? t('launch.userDataBytes', { n: userData.length }) : '—'}</dd>
          </dl>
        )}
      </div>
      {firstProblem && step === 'summary' && <p className="warn" role="status">{problems[firstProblem]}</p>}
      <ErrorNote error={launch.error} />
      <div className="wizard-nav">
        <button type="button" disabled={idx === 0} onClick={() => setStep(STEPS[idx - 1]!)}>{t('launch.back')}</button>
        {step !== 'summary'
          ? <button type="button" className="primary" onClick={() => setStep(STEPS[idx + 1]!)}>{t('launch.next')}</button>
          : <button type="button" className="primary" disabled={!!firstProblem || launch.isPending} onClick={() => launch.mutate()}>{launch.isPending ? t('launch.launching') : t('launch.launch')}</button>}
      </div>
    </section>
  );
}
