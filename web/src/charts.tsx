/** Pictures drawn as inline SVG: horizontal bars, each labelled with its figure so nothing is colour-only. */

export interface Bar { label: string; value: number; tone?: string; text?: string }

export function BarChart({ title, bars, limit, limitLabel }: { title: string; bars: Bar[]; limit?: number | null; limitLabel?: string }) {
  const max = Math.max(1, limit ?? 0, ...bars.map((b) => b.value));
  const rowHeight = 28;
  const labelWidth = 140;
  const width = 560;
  const plot = width - labelWidth - 90;
  const height = Math.max(rowHeight, bars.length * rowHeight) + (limit ? 18 : 0);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}: ${bars.map((b) => `${b.label} ${b.text ?? b.value}`).join(', ')}`} preserveAspectRatio="xMinYMin meet">
        {bars.map((b, i) => {
          const y = i * rowHeight;
          const w = Math.max(1, (b.value / max) * plot);
          return (
            <g key={b.label} transform={`translate(0 ${y})`}>
              <text x={labelWidth - 8} y={rowHeight / 2 + 4} textAnchor="end" className="chart-label">{b.label}</text>
              <rect x={labelWidth} y={5} width={w} height={rowHeight - 10} rx={3} className={`chart-bar ${b.tone ?? ''}`} />
              <text x={labelWidth + w + 6} y={rowHeight / 2 + 4} className="chart-value">{b.text ?? b.value}</text>
            </g>
          );
        })}
        {limit ? (
          <g>
            <line x1={labelWidth + plot} x2={labelWidth + plot} y1={0} y2={height - 16} className="chart-limit" />
            <text x={labelWidth + plot} y={height - 4} textAnchor="middle" className="chart-value">{limitLabel ?? 'limit'}</text>
          </g>
        ) : null}
      </svg>
    </figure>
  );
}
