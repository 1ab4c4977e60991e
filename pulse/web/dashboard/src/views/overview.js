// The overview: KPI cards, the time series and the breakdown tables, all from ONE GraphQL request
// (the server batches the reports' rollup reads), plus a small realtime query every 30 seconds.
// With the segments module readable, the same request lists the saved segments for the segment
// picker; a chosen segment is the filter `segment:is:<id>`, one of the filters every report takes.
import { h, clear } from '../dom.js';
import { createChart } from '../chart.js';
import * as fmt from '../format.js';
import * as url from '../state.js';

const REALTIME_EVERY = 30000;
const ROWS = 10;
const SEGMENT = 'segment'; // a saved segment's filter dimension: `segment:is:<id>` keeps its visitors

const REPORT = `
fragment Share on ShareList { total data { name visitors percentage } }
query Overview($startAt: String!, $endAt: String!, $filters: [FilterInput!], $interval: String!, $rows: Int!,
               $utm: Boolean!, $segments: Boolean! = false) {
  project {
    stats(startAt: $startAt, endAt: $endAt, filters: $filters) {
      current { visitors pageviews sessions bounceRate avgDuration events }
      previous { visitors pageviews sessions bounceRate avgDuration events }
    }
    timeseries(startAt: $startAt, endAt: $endAt, filters: $filters, interval: $interval) {
      date visitors pageviews sessions
    }
    pages(startAt: $startAt, endAt: $endAt, filters: $filters, first: $rows) {
      total data { path views uniqueViews }
    }
    entryPages(startAt: $startAt, endAt: $endAt, filters: $filters, first: $rows) {
      total data { path entrances bounceRate }
    }
    exitPages(startAt: $startAt, endAt: $endAt, filters: $filters, first: $rows) {
      total data { path exits exitRate }
    }
    referrers(startAt: $startAt, endAt: $endAt, filters: $filters, first: $rows) {
      total data { source visitors pageviews }
    }
    channels(startAt: $startAt, endAt: $endAt, filters: $filters, first: $rows) { ...Share }
    campaigns(startAt: $startAt, endAt: $endAt, filters: $filters, first: $rows) @include(if: $utm) {
      total data { campaign visitors pageviews }
    }
    campaignSources(startAt: $startAt, endAt: $endAt, filters: $filters, first: $rows) @include(if: $utm) {
      total data { source visitors pageviews }
    }
    campaignMediums(startAt: $startAt, endAt: $endAt, filters: $filters, first: $rows) @include(if: $utm) {
      total data { medium visitors pageviews }
    }
    geo(startAt: $startAt, endAt: $endAt, filters: $filters, first: $rows) { ...Share }
    devices(startAt: $startAt, endAt: $endAt, filters: $filters, first: $rows) {
      browsers { name visitors percentage }
      operatingSystems { name visitors percentage }
      deviceTypes { name visitors percentage }
    }
    events(startAt: $startAt, endAt: $endAt, filters: $filters, first: $rows) {
      total data { name count unique }
    }
    realtime { activeVisitors }
    segments(first: 1000) @include(if: $segments) { data { id name isActive } }
  }
}`;

const REALTIME = 'query Realtime { project { realtime { activeVisitors } } }';

const CARDS = [
  { key: 'visitors', label: 'Visitors', format: fmt.count, chart: true },
  { key: 'pageviews', label: 'Pageviews', format: fmt.count, chart: true },
  { key: 'sessions', label: 'Sessions', format: fmt.count, chart: true },
  // A rate changes in percentage points; a rate or a duration has a value only where there were sessions.
  { key: 'bounceRate', label: 'Bounce rate', format: fmt.percent, lowerIsBetter: true, points: true, per: 'sessions' },
  { key: 'avgDuration', label: 'Avg. duration', format: fmt.duration, per: 'sessions' },
  { key: 'events', label: 'Events', format: fmt.count },
];

export const DIMENSIONS = {
  path: 'Page', entry_path: 'Entry page', exit_path: 'Exit page', source: 'Source', channel: 'Channel',
  utm_campaign: 'Campaign', utm_source: 'UTM source', utm_medium: 'UTM medium', country: 'Country',
  browser: 'Browser', os: 'OS', device: 'Device', event: 'Event', referrer: 'Referrer', hostname: 'Hostname',
  region: 'Region', city: 'City', utm_content: 'UTM content', utm_term: 'UTM term', segment: 'Segment',
};
const OPERATORS = { is: 'is', is_not: 'is not', contains: 'contains', matches: 'matches' };

const visitors = { label: 'Visitors', get: (r) => r.visitors, format: fmt.count };
const pageviews = { label: 'Views', get: (r) => r.pageviews, format: fmt.count };
const share = { label: '%', get: (r) => r.percentage, format: fmt.percent };
const shares = (pick) => ({ rows: pick, name: (r) => r.name, columns: [visitors, share] });

// The tables: each panel has one or more tabs; a tab says where its rows are in the response,
// which filter a click on a row adds, and which CSV export (if any) holds the same table.
const PANELS = [
  { id: 'sources', title: 'Sources', tabs: [
    { id: 'referrers', label: 'Sources', rows: (d) => d.referrers.data, name: (r) => r.source, dimension: 'source',
      columns: [visitors, pageviews], total: (d) => d.referrers.total, export: 'referrers' },
    { id: 'channels', label: 'Channels', ...shares((d) => d.channels.data), dimension: 'channel',
      total: (d) => d.channels.total },
  ] },
  { id: 'pages', title: 'Pages', tabs: [
    { id: 'pages', label: 'Top pages', rows: (d) => d.pages.data, name: (r) => r.path, dimension: 'path',
      columns: [{ label: 'Views', get: (r) => r.views, format: fmt.count },
        { label: 'Unique', get: (r) => r.uniqueViews, format: fmt.count }],
      total: (d) => d.pages.total, export: 'pages' },
    { id: 'entry', label: 'Entry pages', rows: (d) => d.entryPages.data, name: (r) => r.path, dimension: 'entry_path',
      columns: [{ label: 'Entrances', get: (r) => r.entrances, format: fmt.count },
        { label: 'Bounce', get: (r) => r.bounceRate, format: fmt.percent }],
      total: (d) => d.entryPages.total },
    { id: 'exit', label: 'Exit pages', rows: (d) => d.exitPages.data, name: (r) => r.path, dimension: 'exit_path',
      columns: [{ label: 'Exits', get: (r) => r.exits, format: fmt.count },
        { label: 'Exit rate', get: (r) => r.exitRate, format: fmt.percent }],
      total: (d) => d.exitPages.total },
  ] },
  { id: 'campaigns', title: 'Campaigns', module: 'utm', tabs: [
    { id: 'campaigns', label: 'Campaigns', rows: (d) => d.campaigns.data, name: (r) => r.campaign,
      dimension: 'utm_campaign', columns: [visitors, pageviews], total: (d) => d.campaigns.total, export: 'campaigns' },
    { id: 'utm_sources', label: 'UTM sources', rows: (d) => d.campaignSources.data, name: (r) => r.source,
      dimension: 'utm_source', columns: [visitors, pageviews], total: (d) => d.campaignSources.total },
    { id: 'utm_mediums', label: 'UTM mediums', rows: (d) => d.campaignMediums.data, name: (r) => r.medium,
      dimension: 'utm_medium', columns: [visitors, pageviews], total: (d) => d.campaignMediums.total },
  ] },
  { id: 'countries', title: 'Countries', tabs: [
    { id: 'geo', label: 'Countries', ...shares((d) => d.geo.data), display: fmt.country, dimension: 'country',
      total: (d) => d.geo.total, export: 'geo' },
  ] },
  { id: 'devices', title: 'Devices', tabs: [
    { id: 'browsers', label: 'Browsers', ...shares((d) => d.devices.browsers), dimension: 'browser', export: 'devices' },
    { id: 'os', label: 'OS', ...shares((d) => d.devices.operatingSystems), dimension: 'os', export: 'devices' },
    { id: 'device_types', label: 'Device types', ...shares((d) => d.devices.deviceTypes), dimension: 'device',
      export: 'devices' },
  ] },
  { id: 'events', title: 'Custom events', tabs: [
    { id: 'events', label: 'Custom events', rows: (d) => d.events.data, name: (r) => r.name, dimension: 'event',
      columns: [{ label: 'Count', get: (r) => r.count, format: fmt.count },
        { label: 'Unique', get: (r) => r.unique, format: fmt.count }],
      total: (d) => d.events.total, export: 'events' },
  ] },
];

export default { id: 'overview', label: 'Overview', module: 'core', order: 0, mount };

function mount(root, first) {
  let ctx = first;
  let request = null; // the AbortController of the request in flight
  let data = null;
  let loadedKey = null; // the variables `data` answers
  const chosenTab = {}; // panel id -> tab id, kept across reloads
  const modules = new Set(ctx.boot.modules);
  const panels = PANELS.filter((p) => !p.module || modules.has(p.module));

  // -- the page's fixed frame; reloads refill its parts ------------------------------------------
  const rangeSelect = h('select', { id: 'range', 'aria-label': 'Date range', onchange: () => onRange() },
    url.RANGES.map(([id, label]) => h('option', { value: id }, label)));
  const from = h('input', { type: 'date', 'aria-label': 'First day' });
  const to = h('input', { type: 'date', 'aria-label': 'Last day' });
  const custom = h('form', { class: 'custom', hidden: true, onsubmit: (e) => {
    e.preventDefault();
    if (from.value && to.value) ctx.navigate({ range: 'custom', from: from.value, to: to.value, interval: null });
  } }, from, h('span', { 'aria-hidden': 'true' }, '–'), to, h('button', { type: 'submit' }, 'Apply'));
  const rangeLabel = h('p', { class: 'range-label muted', 'aria-live': 'polite' });
  const live = h('p', { class: 'live', title: 'Visitors active in the last 5 minutes' });
  const chips = h('div', { class: 'chips', 'aria-label': 'Filters', role: 'group' });
  // The segment picker, beside the chips: there when the session may read the segments module, the
  // rule that shows the Segments tab (boot.modules holds the modules the key may read).
  const segmentSelect = h('select', { id: 'segment', onchange: () => pickSegment(segmentSelect.value) });
  const picker = modules.has('segments')
    ? h('div', { class: 'segment-picker' }, h('label', { for: 'segment' }, 'Segment'), segmentSelect) : null;
  const filterBar = h('div', { class: 'filters' }, picker, chips);
  let segments = []; // the saved segments the last response listed: { id, name, isActive }
  const segmentNames = new Map(); // id -> name, of every segment a response has listed
  let drawnOptions = null; // the picker's options, as a key: redrawn only when they change
  const cards = h('section', { class: 'cards', 'aria-label': 'Key figures' });
  const intervalSelect = h('select', { 'aria-label': 'Interval', onchange: () => ctx.navigate({ interval: intervalSelect.value }) },
    url.INTERVALS.map((i) => h('option', { value: i }, `By ${i}`)));
  const chartTitle = h('h2', {});
  const chartBox = h('div', { class: 'chart', role: 'img' });
  const chartPanel = h('section', { class: 'panel chart-panel' },
    h('div', { class: 'panel-head' }, chartTitle, intervalSelect), chartBox);
  const status = h('div', { class: 'status' });
  const grid = h('div', { class: 'grid' });
  const chart = createChart(chartBox);

  clear(root,
    h('section', { class: 'toolbar' }, rangeSelect, custom, rangeLabel, h('span', { class: 'spacer' }), live),
    filterBar, status, cards, chartPanel, grid);

  function onRange() {
    if (rangeSelect.value === 'custom') {
      const span = url.days(ctx.state, ctx.boot.project.timezone);
      from.value ||= span.startAt;
      to.value ||= span.endAt;
      custom.hidden = false;
      from.focus();
      return;
    }
    ctx.navigate({ range: rangeSelect.value, interval: null });
  }

  // -- one request per state --------------------------------------------------------------------
  async function load() {
    const { state, boot } = ctx;
    const span = url.days(state, boot.project.timezone);
    const interval = url.interval(state, span);
    rangeSelect.value = state.range;
    custom.hidden = state.range !== 'custom';
    if (state.range === 'custom') { from.value = span.startAt; to.value = span.endAt; }
    const many = url.daysBetween(span.startAt, span.endAt);
    rangeLabel.dataset.start = span.startAt;
    rangeLabel.dataset.end = span.endAt;
    rangeLabel.textContent = many === 1 ? fmt.dayLabel(span.startAt, true)
      : `${fmt.dayLabel(span.startAt)} – ${fmt.dayLabel(span.endAt, true)}`;
    for (const option of intervalSelect.options) option.disabled = option.value === 'hour' && many > url.MAX_HOURLY_DAYS;
    intervalSelect.value = interval;
    renderChips();
    drawPicker();

    const variables = {
      ...span, interval, rows: ROWS, utm: modules.has('utm'), segments: Boolean(picker),
      filters: state.filters.map((f) => ({ ...f, operator: f.operator.toUpperCase() })),
    };
    // Choosing the chart's metric changes no numbers: redraw from the response already here.
    const key = JSON.stringify(variables);
    if (data && key === loadedKey) return renderAll(span, interval);

    request?.abort();
    const controller = (request = new AbortController());
    root.setAttribute('aria-busy', 'true');
    root.classList.add('loading');
    if (!data) clear(status, h('p', { class: 'muted pad' }, 'Loading the reports…'));
    try {
      data = (await ctx.gql(REPORT, variables, { signal: controller.signal })).project;
      loadedKey = key;
      if (data.segments) listSegments(data.segments.data);
      clear(status);
      renderAll(span, interval);
    } catch (err) {
      if (err.name === 'AbortError') return;
      clear(status, h('div', { class: 'panel error', role: 'alert' },
        h('p', {}, h('strong', {}, 'The reports could not be loaded. '), err.message),
        h('button', { type: 'button', onclick: load }, 'Retry')));
    } finally {
      if (request === controller) {
        root.removeAttribute('aria-busy');
        root.classList.remove('loading');
      }
    }
  }

  function renderAll(span, interval) {
    const { state, boot } = ctx;
    showLive(data.realtime.activeVisitors);
    renderCards();
    const metric = CARDS.find((c) => c.key === state.metric);
    chartTitle.textContent = `${metric.label} by ${interval}`;
    const empty = !state.filters.length && data.stats.current.pageviews === 0 && data.stats.current.events === 0;
    chartPanel.hidden = empty;
    if (empty) {
      clear(grid, setup());
      return;
    }
    chart.draw(data.timeseries, state.metric, metric.label, boot.project.timezone);
    clear(grid, ...panels.map((panel) => renderPanel(panel, span)));
  }

  function renderCards() {
    const { current, previous } = data.stats;
    const focused = cards.contains(document.activeElement) ? document.activeElement.dataset.metric : null;
    clear(cards, ...CARDS.map((card) => {
      const value = current[card.key];
      const delta = fmt.change(value, previous[card.key], card.per
        ? { points: card.points, before: previous[card.per] > 0, now: current[card.per] > 0 } : {});
      const better = (delta.direction > 0) !== Boolean(card.lowerIsBetter);
      const trend = h('span', { class: `delta ${delta.direction === 0 ? 'muted' : better ? 'up' : 'down'}`,
        title: delta.title || `Previous period: ${card.format(previous[card.key])}` }, delta.text);
      const body = [h('span', { class: 'card-label' }, card.label),
        h('strong', { class: 'card-value', dataset: { value: String(value) } }, card.format(value)), trend];
      // The chartable cards double as the chart's metric switcher.
      return card.chart
        ? h('button', { type: 'button', class: 'card', dataset: { metric: card.key },
          'aria-pressed': String(ctx.state.metric === card.key),
          onclick: () => ctx.navigate({ metric: card.key }, { replace: true }) }, ...body)
        : h('div', { class: 'card', dataset: { metric: card.key } }, ...body);
    }));
    if (focused) cards.querySelector(`[data-metric="${focused}"]`).focus(); // keep the keyboard's place
  }

  function renderPanel(panel, span) {
    const tab = panel.tabs.find((t) => t.id === chosenTab[panel.id]) || panel.tabs[0];
    const rows = tab.rows(data) || [];
    const [main, second] = tab.columns;
    const top = Math.max(1, ...rows.map(main.get));
    const head = h('div', { class: 'panel-head' },
      panel.tabs.length > 1
        ? h('div', { class: 'tabs', role: 'group', 'aria-label': panel.title }, panel.tabs.map((t) => h('button', {
          type: 'button', 'aria-pressed': String(t === tab),
          onclick: () => { chosenTab[panel.id] = t.id; refresh(panel, span); },
        }, t.label)))
        : h('h2', {}, panel.title),
      tab.export && modules.has('exports') ? h('a', {
        class: 'export', href: exportUrl(tab.export, span), download: '',
        'aria-label': `Download ${tab.label} as CSV`,
      }, 'CSV') : null);
    const body = rows.length ? h('table', { dataset: { table: tab.id } },
      h('caption', { class: 'sr-only' }, `${tab.label}. Choose a row to filter the dashboard by it.`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, tab.label), h('th', { scope: 'col' }, main.label),
        h('th', { scope: 'col', class: 'second' }, second.label))),
      h('tbody', {}, rows.map((row) => {
        const name = tab.name(row);
        const bar = h('button', {
          type: 'button', class: 'row-name', title: `Filter by ${DIMENSIONS[tab.dimension]}: ${name}`,
          onclick: () => addFilter(tab.dimension, name),
        }, (tab.display || String)(name));
        bar.style.setProperty('--share', `${(main.get(row) / top) * 100}%`);
        return h('tr', { dataset: { name } }, h('th', { scope: 'row' }, bar),
          h('td', { dataset: { value: String(main.get(row)) } }, main.format(main.get(row))),
          h('td', { class: 'second', dataset: { value: String(second.get(row)) } }, second.format(second.get(row))));
      })))
      : h('p', { class: 'muted empty' }, 'Nothing in this range.');
    const total = tab.total?.(data);
    return h('section', { class: 'panel', dataset: { panel: panel.id, tab: tab.id } }, head, body,
      total > rows.length ? h('p', { class: 'muted more' }, `Top ${rows.length} of ${fmt.count(total)}`) : null);
  }

  // Switching a panel's tab needs no request: the one response already holds every table.
  function refresh(panel, span) {
    const fresh = renderPanel(panel, span);
    grid.querySelector(`[data-panel="${panel.id}"]`).replaceWith(fresh);
    fresh.querySelector('.tabs button[aria-pressed="true"]')?.focus();
  }

  function exportUrl(type, span) {
    const p = new URLSearchParams({ start_at: span.startAt, end_at: span.endAt });
    for (const f of ctx.state.filters) p.append('filter', url.filterText(f));
    if (ctx.boot.admin) p.set('project_id', ctx.boot.project.id); // an admin session names the project
    return `/api/v1/exports/${type}?${p}`;
  }

  // -- filters ----------------------------------------------------------------------------------
  function addFilter(dimension, value) {
    // One "is" filter per dimension: choosing another row of the same table replaces it.
    const rest = ctx.state.filters.filter((f) => !(f.dimension === dimension && f.operator === 'is'));
    ctx.navigate({ filters: [...rest, { dimension, operator: 'is', value }] });
    chips.querySelector('button')?.focus();
  }

  // A filter's value as its chip shows it: a country's name, a segment's name (its id until a
  // response has listed it, or when it is not among them).
  const valueText = (f) => (f.dimension === 'country' ? fmt.country(f.value)
    : f.dimension === SEGMENT ? segmentNames.get(f.value) ?? f.value : f.value);

  function renderChips() {
    const { filters } = ctx.state;
    chips.hidden = !filters.length;
    filterBar.hidden = !picker && !filters.length;
    // Drawn again when a response names a segment: the keyboard keeps its place on the same chip.
    const focused = chips.contains(document.activeElement) ? document.activeElement.dataset.filter : null;
    // Every child is a node: replaceChildren() would write a null as the text "null".
    clear(chips, ...[...filters.map((f, i) => h('button', {
      type: 'button', class: 'chip', 'aria-label': `Remove filter: ${DIMENSIONS[f.dimension] || f.dimension} ${OPERATORS[f.operator] || f.operator} ${valueText(f)}`,
      dataset: { filter: url.filterText(f) },
      onclick: () => { ctx.navigate({ filters: filters.filter((_, j) => j !== i) }); (chips.querySelector('button') || rangeSelect).focus(); },
    }, h('span', { class: 'muted' }, `${DIMENSIONS[f.dimension] || f.dimension} ${OPERATORS[f.operator] || f.operator}`),
    valueText(f), h('span', { 'aria-hidden': 'true', class: 'x' }, '×'))),
    filters.length > 1 ? h('button', { type: 'button', class: 'quiet', onclick: () => ctx.navigate({ filters: [] }) },
      'Clear all') : null].filter(Boolean));
    if (focused) [...chips.querySelectorAll('.chip')].find((c) => c.dataset.filter === focused)?.focus();
  }

  // -- the segment picker: the filter `segment:is:<id>`, in the URL as every filter is ------------
  const isSegment = (f) => f.dimension === SEGMENT && f.operator === 'is';
  const chosenSegment = () => ctx.state.filters.filter(isSegment).pop()?.value || '';

  // One segment at a time: choosing another replaces it, "All visitors" removes it; other filters stay.
  function pickSegment(id) {
    const rest = ctx.state.filters.filter((f) => !isSegment(f));
    ctx.navigate({ filters: id ? [...rest, { dimension: SEGMENT, operator: 'is', value: id }] : rest });
  }

  function listSegments(list) {
    segments = list;
    for (const s of list) segmentNames.set(s.id, s.name);
    renderChips(); // a segment's chip now has its name
    drawPicker();
  }

  function drawPicker() {
    if (!picker) return;
    const chosen = chosenSegment();
    // Pickers offer the active segments; an inactive one only while it is the one chosen.
    const offered = segments.filter((s) => s.isActive || s.id === chosen).map((s) => [s.id, s.name]);
    if (chosen && !offered.some(([id]) => id === chosen)) offered.push([chosen, segmentNames.get(chosen) ?? chosen]);
    const options = [['', 'All visitors'], ...offered];
    const key = JSON.stringify(options);
    if (key !== drawnOptions) { // redrawing the options of a select in use would lose its place
      drawnOptions = key;
      clear(segmentSelect, ...options.map(([value, name]) => h('option', { value }, name)));
    }
    segmentSelect.value = chosen;
    segmentSelect.disabled = !offered.length;
    segmentSelect.title = offered.length ? '' : 'No saved segments yet: build one in the Segments tab';
  }

  // -- realtime ---------------------------------------------------------------------------------
  function showLive(n) {
    live.dataset.value = String(n);
    clear(live, h('span', { class: 'dot', 'aria-hidden': 'true' }), `${fmt.count(n)} ${n === 1 ? 'visitor' : 'visitors'} now`);
  }
  const timer = setInterval(async () => {
    if (document.hidden) return;
    try {
      showLive((await ctx.gql(REALTIME)).project.realtime.activeVisitors);
    } catch { /* the next tick retries; a lost session already sent the page to the login form */ }
  }, REALTIME_EVERY);

  // -- an empty project: how to start sending data ----------------------------------------------
  function setup() {
    const { origin } = ctx.boot;
    const snippet = `<script defer\n  src="${origin}/api/script.js"\n  data-api="${origin}"\n  data-key="pa_live_YOUR_INGEST_KEY"></script>`;
    const copy = h('button', { type: 'button', onclick: async () => {
      try { await navigator.clipboard.writeText(snippet); copy.textContent = 'Copied'; }
      catch { copy.textContent = 'Select the text to copy'; }
    } }, 'Copy snippet');
    return h('section', { class: 'panel setup', 'aria-labelledby': 'setup-title' },
      h('h2', { id: 'setup-title' }, 'No pageviews in this range yet'),
      h('p', {}, `If ${ctx.boot.project.domain} is new to Pulse, add this tag before </body> on every page:`),
      h('pre', {}, h('code', {}, snippet)), copy,
      h('p', { class: 'muted' }, 'Replace pa_live_YOUR_INGEST_KEY with a key that has the ingest scope (it is public: ',
        'it can only send data). The dashboard only holds your query key; an admin creates an ingest key with ',
        h('code', {}, `POST /api/admin/projects/${ctx.boot.project.id}/keys`), ' and ',
        h('code', {}, '{"name": "site", "scopes": ["ingest"]}'), '. Or pick a longer date range above.'));
  }

  load();
  return {
    update(next) { ctx = next; load(); },
    destroy() { clearInterval(timer); request?.abort(); chart.destroy(); },
  };
}
