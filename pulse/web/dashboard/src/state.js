// The view's state lives in the URL (range, interval, metric, filters, tab), so every view can be
// bookmarked and shared; the key never does (it stays in the HttpOnly session cookie).

export const RANGES = [
  ['today', 'Today'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['month', 'This month'], ['custom', 'Custom…'],
];
export const INTERVALS = ['hour', 'day', 'week', 'month'];
export const METRICS = ['visitors', 'pageviews', 'sessions'];
export const MAX_HOURLY_DAYS = 31; // the server's limit for hourly series
const DAY = /^\d{4}-\d{2}-\d{2}$/;

// A filter is `dimension:operator:value`, exactly as the REST API's `filter` parameter takes it,
// and the URL carries it the same way (`filter=`, once per filter), so a dashboard URL's query
// works on a REST call as it stands.
export const FILTER = 'filter';
const LEGACY_FILTER = 'f'; // what older dashboard links say; read, then rewritten to `filter=`
export function parseFilter(text) {
  const [dimension, operator, ...rest] = text.split(':');
  if (!dimension || !operator || !rest.length) return null;
  return { dimension, operator, value: rest.join(':') };
}
export const filterText = (f) => `${f.dimension}:${f.operator}:${f.value}`;

// The state a query string names. Reading the page's own address also rewrites an old link's
// `f=` to `filter=` in place (no new history entry), so what is copied from it is the new form.
export function read(search = location.search) {
  const p = new URLSearchParams(search);
  const legacy = p.has(LEGACY_FILTER);
  const range = RANGES.some(([id]) => id === p.get('range')) ? p.get('range') : '30d';
  const state = {
    tab: p.get('tab') || 'overview',
    range,
    from: DAY.test(p.get('from') || '') ? p.get('from') : null,
    to: DAY.test(p.get('to') || '') ? p.get('to') : null,
    interval: INTERVALS.includes(p.get('interval')) ? p.get('interval') : null,
    metric: METRICS.includes(p.get('metric')) ? p.get('metric') : 'visitors',
    filters: [...p.getAll(FILTER), ...p.getAll(LEGACY_FILTER)].map(parseFilter).filter(Boolean),
  };
  if (range === 'custom' && !(state.from && state.to)) state.range = '30d';
  if (legacy && search === location.search) history.replaceState(history.state, '', write(state));
  return state;
}

export function write(state) {
  const p = new URLSearchParams();
  if (state.tab !== 'overview') p.set('tab', state.tab);
  if (state.range !== '30d') p.set('range', state.range);
  if (state.range === 'custom') { p.set('from', state.from); p.set('to', state.to); }
  if (state.interval) p.set('interval', state.interval);
  if (state.metric !== 'visitors') p.set('metric', state.metric);
  for (const f of state.filters) p.append(FILTER, filterText(f));
  const query = p.toString();
  return query ? `?${query}` : location.pathname;
}

// -- days, in the project's time zone (reports count whole days there) --------------------------

export function today(timeZone, now = new Date()) {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

export function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export const daysBetween = (first, last) => Math.round((Date.parse(last) - Date.parse(first)) / 86400000) + 1;

// The first and last day a range covers: what both the GraphQL query and the CSV links send.
export function days(state, timeZone) {
  const last = today(timeZone);
  switch (state.range) {
    case 'today': return { startAt: last, endAt: last };
    case '7d': return { startAt: addDays(last, -6), endAt: last };
    case 'month': return { startAt: `${last.slice(0, 8)}01`, endAt: last };
    case 'custom': return state.from <= state.to ? { startAt: state.from, endAt: state.to }
      : { startAt: state.to, endAt: state.from };
    default: return { startAt: addDays(last, -29), endAt: last };
  }
}

// Hours for a single day, days otherwise; an interval the range cannot have falls back to day.
export function interval(state, span) {
  const n = daysBetween(span.startAt, span.endAt);
  const chosen = state.interval || (n === 1 ? 'hour' : 'day');
  return chosen === 'hour' && n > MAX_HOURLY_DAYS ? 'day' : chosen;
}
