import { useState } from 'react';
import { useT } from '../i18n';

/** A read-only value with a copy button: for secrets shown once (a transfer key, an application credential). */
export function CopyField({ label, name, value }: { label: string; name: string; value: string }) {
  const t = useT();
  const [copied, setCopied] = useState(false);
  return (
    <div className="copy-field">
      <label>{label}<input name={name} className="mono" readOnly value={value} onFocus={(e) => e.target.select()} /></label>
      <button
        type="button"
        aria-label={t('common.copyThis', { what: label })}
        onClick={() => void navigator.clipboard.writeText(value).then(() => setCopied(true), () => setCopied(false))}
      >
        {copied ? t('common.copied') : t('common.copy')}
      </button>
    </div>
  );
}
