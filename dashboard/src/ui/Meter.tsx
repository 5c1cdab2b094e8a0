/** A usage bar drawn in SVG (attributes, not inline styles: the CSP allows no style attributes). */
export function Meter({ label, used, limit, unit }: { label: string; used: number; limit: number; unit?: string }) {
  const unlimited = limit < 0;
  const frac = unlimited || limit === 0 ? (used > 0 && limit === 0 ? 1 : 0) : Math.min(1, used / limit);
  const level = frac >= 0.9 ? 'full' : frac >= 0.7 ? 'high' : 'ok';
  return (
    <figure className="meter">
      <figcaption>{label}</figcaption>
      <svg viewBox="0 0 100 8" preserveAspectRatio="none" role="img" aria-label={`${label}: ${used} / ${unlimited ? '∞' : limit}`}>
        <rect className="track" x="0" y="0" width="100" height="8" rx="2" />
        <rect className={`bar ${level}`} x="0" y="0" width={String(frac * 100)} height="8" rx="2" />
      </svg>
      <div className="meter-num">{used}{unit ?? ''} / {unlimited ? '∞' : `${limit}${unit ?? ''}`}</div>
    </figure>
  );
}
