import { ApiError } from '../api/errors';
import { useT } from '../i18n';

/** An API failure in plain words, with the request id to quote to an operator. */
export function ErrorNote({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const t = useT();
  if (!error) return null;
  const api = error instanceof ApiError ? error : null;
  let text: string;
  if (api?.status === 0) text = t('err.network');
  else if (api?.status === 403) text = `${t('err.forbidden')} ${api.message}`;
  else if (api?.status === 409) text = `${t('err.conflict')} ${api.message}`;
  else if (api?.status === 413) text = `${t('err.overLimit')} ${api.message}`;
  else text = error instanceof Error ? error.message : String(error);
  return (
    <div className="error" role="alert">
      <span>{text}</span>
      {api?.requestId && <span className="reqid">{t('err.requestId')}: <code>{api.requestId}</code></span>}
      {onRetry && <button type="button" onClick={onRetry}>{t('action.retry')}</button>}
    </div>
  );
}
