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

export interface DaySeries { label: string; tone: string; values: number[] }

/** Columns per day for a few series side by side; each column carries its figure in a tooltip. */
export function DayChart({ title, days, series }: { title: string; days: string[]; series: DaySeries[] }) {
  const width = 640;
  const height = 180;
  const left = 32;
  const bottom = 22;
  const plotW = width - left - 8;
  const plotH = height - bottom - 8;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const slot = plotW / Math.max(1, days.length);
  const bar = Math.max(1, (slot - 2) / series.length);
  const totals = series.map((s) => `${s.label} ${s.values.reduce((a, b) => a + b, 0)}`).join(', ');
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <ul className="legend">
        {series.map((s) => <li key={s.label}><span className={`swatch ${s.tone}`} aria-hidden="true" /> {s.label}</li>)}
      </ul>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}, ${days[0]} to ${days[days.length - 1]}: ${totals}`} preserveAspectRatio="xMinYMin meet">
        <text x={left - 4} y={12} textAnchor="end" className="chart-value">{max}</text>
        <text x={left - 4} y={plotH + 8} textAnchor="end" className="chart-value">0</text>
        <line x1={left} x2={width - 8} y1={plotH + 8} y2={plotH + 8} className="chart-axis" />
        {days.map((day, i) => (
          <g key={day} transform={`translate(${left + i * slot + 1} 8)`}>
            {series.map((s, j) => {
              const v = s.values[i] ?? 0;
              const h = (v / max) * plotH;
              return (
                <rect key={s.label} x={j * bar} y={plotH - h} width={bar} height={Math.max(h, v > 0 ? 1 : 0)} className={`chart-bar ${s.tone}`}>
                  <title>{`${day}: ${v} ${s.label.toLowerCase()}`}</title>
                </rect>
              );
            })}
            {(i % 7 === 0 && days.length - 1 - i >= 4) || i === days.length - 1 ? <text x={slot / 2} y={plotH + 20} textAnchor="middle" className="chart-value">{day.slice(5)}</text> : null}
          </g>
        ))}
      </svg>
    </figure>
  );
}
