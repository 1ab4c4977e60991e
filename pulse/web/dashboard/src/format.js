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

// The change against the previous period, as a card shows it: { text, direction, title }, where
// direction is 1 (up), -1 (down) or 0. The rule (docs/dashboard.md, "Changes"): with nothing in the
// previous period there is no percentage, only "new" ("—" when this period is empty too); counts
// and durations change in percent, in whole numbers, and a rise beyond 999% (a near-empty previous
// period) shows as ">999%"; a rate (`points`) changes in percentage points, so 2% to 40% is
// "↑ 38.0 pp", not "↑ 1900%". `before` and `now` say whether each period had anything to measure
// (for a rate or a duration: sessions); a count has something when it is above zero.
export const MAX_PERCENT = 999;

export function change(current, previous, { points = false, before = previous > 0, now = true } = {}) {
  const arrow = (d) => (d > 0 ? '↑ ' : d < 0 ? '↓ ' : '');
  if (!now) return { text: '—', direction: 0, title: before ? 'Nothing in this period' : 'Nothing in either period' };
  if (!before || (!points && !previous)) {
    return current ? { text: 'new', direction: 0, title: 'Nothing in the previous period' }
      : { text: '—', direction: 0, title: 'Nothing in either period' };
  }
  if (points) {
    const diff = Math.round((current - previous) * 10) / 10;
    return { text: `${arrow(diff)}${Math.abs(diff).toFixed(1)} pp`, direction: Math.sign(diff) };
  }
  const pct = Math.round(((current - previous) / previous) * 100);
  if (pct > MAX_PERCENT) return { text: `↑ >${MAX_PERCENT}%`, direction: 1 };
  return { text: `${arrow(pct)}${Math.abs(pct)}%`, direction: Math.sign(pct) };
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
