// Numbers as people read them; raw values stay on `data-value` for tests and tooling.
const whole = new Intl.NumberFormat('en-US');
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export const count = (n) => (n >= 100000 ? compact.format(n) : whole.format(n));
export const percent = (n) => `${(Math.round(n * 10) / 10).toFixed(1)}%`;

export function duration(seconds) {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

// The change against the previous period, in percent; null when there is nothing to compare with.
export function change(current, previous) {
  if (!previous) return null;
  return ((current - previous) / previous) * 100;
}

const regionNames = typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(['en'], { type: 'region' }) : null;

// "US" as "United States" (the code stays on the row's filter value and title).
export function country(code) {
  if (!/^[A-Z]{2}$/.test(code)) return code;
  try { return regionNames?.of(code) || code; } catch { return code; }
}

const monthDay = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
const full = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });

// "2026-03-01" (a project day) as a label; the dates are calendar days, so format them in UTC.
export function dayLabel(day, withYear = false) {
  return (withYear ? full : monthDay).format(new Date(`${day}T00:00:00Z`));
}
