import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Empty, Money } from '../../../components/ui';
import { formatCents, formatCentsCompact } from '../../../lib/money';
import { netWorthRows, type HistoryInterval, type NetWorthSeries } from '../api/overview';

const COLORS = ['#2f5d8a', '#b5651d', '#3f7f4f', '#7a4f9a', '#9a3f4f'];

/**
 * Net worth over time: one line per series (the first drawn heavier), and the same figures in a table for screen
 * readers and anyone who wants the numbers.
 */
export function NetWorthChart({
  series,
  currency,
  interval,
  caption,
}: {
  series: readonly NetWorthSeries[];
  currency: string;
  interval: HistoryInterval;
  caption: string;
}) {
  const rows = netWorthRows(series);
  if (rows.length === 0) return <Empty>No balances in this window.</Empty>;
  const label = (on: string) => (interval === 'month' ? on.slice(0, 7) : on.slice(5));
  return (
    <>
      <div className="chart" role="img" aria-label={caption}>
        <ResponsiveContainer width="100%" height={240}>
          <LineChart data={rows}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="on" tickFormatter={label} />
            <YAxis width={70} tickFormatter={(cents: number) => formatCentsCompact(cents, currency)} />
            <Tooltip formatter={(cents) => formatCents(Number(cents), currency)} />
            {series.length > 1 ? <Legend /> : null}
            {series.map((line, index) => (
              <Line
                key={line.key}
                isAnimationActive={false}
                type="monotone"
                dataKey={line.key}
                name={line.name}
                stroke={COLORS[index % COLORS.length]}
                strokeWidth={index === 0 ? 3 : 1.5}
                dot={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
      {/* Hidden from sight by its wrapper: a table is never narrower than its content, whatever its own width. */}
      <div className="visually-hidden">
        <table>
          <caption>{caption}</caption>
          <thead>
            <tr>
              <th scope="col">{interval === 'month' ? 'Month end' : 'Day'}</th>
              {series.map((line) => (
                <th scope="col" key={line.key}>
                  {line.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={String(row.on)}>
                <th scope="row">{String(row.on)}</th>
                {series.map((line) => (
                  <td key={line.key} className="amount">
                    {typeof row[line.key] === 'number' ? <Money cents={row[line.key] as number} currency={currency} /> : '—'}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** Twelve month ends or thirty days. */
export function IntervalPicker({ value, onChange }: { value: HistoryInterval; onChange: (interval: HistoryInterval) => void }) {
  return (
    <label className="interval-picker">
      Window{' '}
      <select value={value} onChange={(event) => onChange(event.target.value as HistoryInterval)}>
        <option value="month">Last 12 months</option>
        <option value="day">Last 30 days</option>
      </select>
    </label>
  );
}
