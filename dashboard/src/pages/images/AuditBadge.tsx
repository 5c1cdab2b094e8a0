import { useT } from '../../i18n';

/**
 * The golden-image factory's audit result. It is not a separate API: `gureum image publish` and `gureum image audit
 * --image` record it in the image's `gureum_audit` property ("clean" or "identity-left: <operations>").
 */
export function AuditBadge({ value }: { value: string | undefined }) {
  const t = useT();
  if (!value) return <span className="muted" data-audit="none">{t('images.auditNone')}</span>;
  const clean = value === 'clean';
  return <span className={clean ? 'ok' : 'warn'} data-audit={clean ? 'clean' : 'identity-left'}>{clean ? t('images.auditClean') : t('images.auditLeft', { what: value.replace(/^identity-left:\s*/, '') })}</span>;
}
