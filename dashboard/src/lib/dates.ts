/** Today as YYYY-MM-DD in the browser's time zone (an accounting date, not an instant). */
export function todayOn(now = new Date()): string {
  const month = String(now.getMonth() + 1).padStart(2, '0');
  const day = String(now.getDate()).padStart(2, '0');
  return `${now.getFullYear()}-${month}-${day}`;
}

export function monthOf(on: string): string {
  return on.slice(0, 7);
}

export function firstOfYearOn(on: string): string {
  return `${on.slice(0, 4)}-01-01`;
}

/** YYYY-MM-DD of the first and last day of a YYYY-MM month. */
export function monthBounds(month: string): { fromOn: string; toOn: string } {
  const [year, monthNumber] = month.split('-').map(Number) as [number, number];
  const last = new Date(Date.UTC(year, monthNumber, 0)).getUTCDate();
  return { fromOn: `${month}-01`, toOn: `${month}-${String(last).padStart(2, '0')}` };
}

export function shiftMonth(month: string, delta: number): string {
  const [year, monthNumber] = month.split('-').map(Number) as [number, number];
  const date = new Date(Date.UTC(year, monthNumber - 1 + delta, 1));
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}
