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

export interface Line { label: string; values: Array<number | null> }

/** Lines over days (gaps where a day has no figure), with an optional limit drawn across. */
export function LineChart({ title, days, lines, limit, format }: { title: string; days: string[]; lines: Line[]; limit?: number | null; format: (n: number) => string }) {
  const width = 640;
  const height = 180;
  const left = 70;
  const plotW = width - left - 10;
  const plotH = height - 30;
  const values = lines.flatMap((l) => l.values.filter((v): v is number => v !== null));
  const max = Math.max(1, limit ?? 0, ...values);
  const x = (i: number) => left + (days.length <= 1 ? plotW : (i / (days.length - 1)) * plotW);
  const y = (v: number) => 8 + plotH - (v / max) * plotH;
  const latest = lines.map((l) => `${l.label} ${format([...l.values].reverse().find((v) => v !== null) ?? 0)}`).join(', ');
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <ul className="legend">
        {lines.map((l, i) => <li key={l.label}><span className={`swatch series-${i % 6}`} aria-hidden="true" /> {l.label}</li>)}
        {limit ? <li><span className="swatch limit" aria-hidden="true" /> quota {format(limit)}</li> : null}
      </ul>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}, latest: ${latest}${limit ? `; quota ${format(limit)}` : ''}`} preserveAspectRatio="xMinYMin meet">
        <text x={left - 6} y={14} textAnchor="end" className="chart-value">{format(max)}</text>
        <text x={left - 6} y={plotH + 10} textAnchor="end" className="chart-value">0</text>
        <line x1={left} x2={width - 10} y1={plotH + 8} y2={plotH + 8} className="chart-axis" />
        {limit ? <line x1={left} x2={width - 10} y1={y(limit)} y2={y(limit)} className="chart-limit" /> : null}
        {lines.map((l, i) => {
          // Runs of consecutive days with a figure become one polyline each; a lone day is a dot.
          const runs: Array<Array<[number, number]>> = [];
          l.values.forEach((v, d) => {
            if (v === null) return;
            const last = runs[runs.length - 1];
            const point: [number, number] = [x(d), y(v)];
            if (last && l.values[d - 1] !== null && d > 0) last.push(point);
            else runs.push([point]);
          });
          return (
            <g key={l.label} className={`series-${i % 6}`}>
              {runs.map((run, r) => run.length > 1
                ? <polyline key={r} points={run.map((p) => p.join(',')).join(' ')} className="chart-line" />
                : <circle key={r} cx={run[0]![0]} cy={run[0]![1]} r={3} className="chart-dot" />)}
            </g>
          );
        })}
        <text x={left} y={height - 4} className="chart-value">{days[0]?.slice(5)}</text>
        <text x={width - 10} y={height - 4} textAnchor="end" className="chart-value">{days[days.length - 1]?.slice(5)}</text>
      </svg>
    </figure>
  );
}
