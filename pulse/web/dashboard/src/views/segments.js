// Segments (module `segments`): the saved segments, one segment's visitors over the dashboard's
// range (how many, and by country, device, browser, os, path or event), a builder that counts what
// a definition matches while it is being written, and two segments compared side by side.
// The view's own place is in the URL beside the frame's state: `segment` (an id, or `new` for the
// builder), `by` (the breakdown shown) and `compare` (two ids), so a link reopens it and Back
// returns to the list. The range is the frame's `range`, as the Accounts view uses it.
// Definitions are the condition language's (docs/conditions.md); the server checks them, so the
// builder sends what it has and shows the server's message (which names the bad condition) rather
// than keeping a second copy of the rules here.
import { h, clear } from '../dom.js';
import * as fmt from '../format.js';
import * as url from '../state.js';
import { go, inPage, link, loader, pager, param, PAGE_SIZE } from './people.js';

const DEBOUNCE = 300; // ms between the last change to a definition and its count
const PICKER = 1000; // segments offered by the compare pickers (the API's largest page)

const LIST = `query Segments($first: Int!, $after: String, $picker: Int!) {
  project {
    segments(first: $first, after: $after) {
      total pageInfo { endCursor hasNextPage } data { id name description isActive }
    }
    picker: segments(first: $picker) { data { id name } }
  }
}`;
const SEGMENT = `query Segment($id: ID!, $startAt: String!, $endAt: String!, $by: String!) {
  project { segment(id: $id) {
    id name description definition isActive
    evaluate(startAt: $startAt, endAt: $endAt, limit: 10) { totalVisitors visitors }
    breakdown(property: $by, startAt: $startAt, endAt: $endAt, limit: 10) { value visitors }
  } }
}`;
const PREVIEW = `query PreviewSegment($definition: JSON!, $startAt: String!, $endAt: String!) {
  project { previewSegment(definition: $definition, startAt: $startAt, endAt: $endAt, limit: 0) { totalVisitors } }
}`;
const COMPARE = `query CompareSegments($ids: [ID!]!, $startAt: String!, $endAt: String!) {
  project { compareSegments(ids: $ids, startAt: $startAt, endAt: $endAt) {
    segmentId name visitors sessions pageviews events bounceRate avgDuration
  } }
}`;
// A key acts on its own project; an admin session names the one the dashboard shows.
const CREATE = `mutation CreateSegment($input: SegmentInput!, $projectId: ID) {
  createSegment(input: $input, projectId: $projectId) { id }
}`;
const UPDATE = `mutation UpdateSegment($id: ID!, $input: SegmentUpdateInput!, $projectId: ID) {
  updateSegment(id: $id, input: $input, projectId: $projectId) { id }
}`;
const DELETE = `mutation DeleteSegment($id: ID!, $projectId: ID) { deleteSegment(id: $id, projectId: $projectId) }`;

const BREAKDOWNS = [['country', 'Country'], ['device', 'Device'], ['browser', 'Browser'], ['os', 'Operating system'],
  ['path', 'Page'], ['event', 'Event']];
const COMPARED = [
  ['visitors', 'Visitors', fmt.count], ['sessions', 'Sessions', fmt.count], ['pageviews', 'Pageviews', fmt.count],
  ['events', 'Events', fmt.count], ['bounceRate', 'Bounce rate', fmt.percent],
  ['avgDuration', 'Avg. visit duration', fmt.duration],
];

// -- the condition language, as far as the builder edits it (docs/conditions.md) ----------------

const SOURCES = [['profile', 'Profile'], ['session', 'Session'], ['pageview', 'Pageview'], ['event', 'Event'],
  ['metric', 'Metric']];
const SESSION_FIELDS = ['country', 'region', 'city', 'browser', 'os', 'device', 'source', 'channel', 'referrer',
  'utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term', 'entry_path', 'exit_path', 'hostname'];
// Each source's fields, as [value, label]. `traits.` and `event_data.` take a name typed after them
// (`key`); '' is an event condition without a field ("did the event").
const FIELDS = {
  profile: [['traits.', 'Trait…'], ['visitor_id', 'Visitor id'], ['user_id', 'User id']],
  session: SESSION_FIELDS.map((f) => [f, f]),
  pageview: [['path', 'path'], ['hostname', 'hostname'], ['title', 'title']],
  event: [['', 'Did the event'], ['event_data.', 'Property…'], ['revenue_amount', 'Revenue amount'],
    ['revenue_currency', 'Revenue currency']],
  metric: [['pageviews', 'Pageviews'], ['sessions', 'Sessions'], ['events', 'Events'], ['revenue', 'Revenue'],
    ['duration', 'Time on site (s)']],
};
const PREFIXES = ['traits.', 'event_data.'];
const OPS = {
  exists: 'is set', not_exists: 'is not set', eq: 'equals', neq: 'does not equal', contains: 'contains',
  starts_with: 'starts with', ends_with: 'ends with', gt: '>', gte: '≥', lt: '<', lte: '≤', in: 'is one of',
};
const PRESENCE = ['exists', 'not_exists'];
const TEXT = ['exists', 'not_exists', 'eq', 'neq', 'contains', 'starts_with', 'ends_with', 'in'];
const NUMBER = ['exists', 'not_exists', 'eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in'];
const COMPARISON = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte'];
const ORDERING = ['gt', 'gte', 'lt', 'lte'];
const WORDS = ['contains', 'starts_with', 'ends_with'];

// What a field's values are: 'text' (session and pageview fields are strings, so ordering them
// never matches and is not offered), 'number', or 'any' (a trait or event property: JSON of any
// type, so the builder asks which type the value is).
function kind(c) {
  if (c.source === 'metric' || c.field === 'revenue_amount') return 'number';
  return PREFIXES.includes(c.field) ? 'any' : 'text';
}

function operators(c) {
  if (c.source === 'metric') return COMPARISON;
  if (c.source === 'event' && !c.field) return PRESENCE;
  return { text: TEXT, number: NUMBER, any: Object.keys(OPS) }[kind(c)];
}

// The type the value is sent as: fixed by the operator or the field, else the one chosen.
function valueType(c) {
  if (ORDERING.includes(c.op) || kind(c) === 'number') return 'number';
  if (WORDS.includes(c.op) || kind(c) === 'text') return 'string';
  return c.op === 'in' && c.type === 'boolean' ? 'string' : c.type;
}

const blank = () => ({ source: 'profile', field: 'traits.', key: '', event: '', op: 'eq', value: '', type: 'string' });

// One typed value. Text that is not a number is sent as it is, so the server's message says what
// is wrong ("'gt' needs a number, got string") rather than a guess made here.
function typed(text, type) {
  const t = text.trim();
  if (type === 'number') return t !== '' && Number.isFinite(Number(t)) ? Number(t) : t;
  if (type === 'boolean') return t === 'true';
  return text;
}

function toCondition(c) {
  const out = { source: c.source };
  if (c.source === 'event' || (c.source === 'metric' && c.field === 'events' && c.event.trim())) out.event = c.event.trim();
  const field = PREFIXES.includes(c.field) ? `${c.field}${c.key.trim()}` : c.field;
  if (field) out.field = field;
  out.op = c.op;
  if (PRESENCE.includes(c.op)) return out;
  const type = valueType(c);
  if (c.op === 'in') {
    const items = c.value.split(',').map((v) => v.trim()).filter(Boolean);
    if (items.length) out.value = items.map((v) => typed(v, type));
  } else if (type === 'boolean' || c.value !== '') out.value = typed(c.value, type);
  return out; // a missing value: the server says which condition needs one
}

export const definitionOf = (match, rows) => ({ match, conditions: rows.map(toCondition) });

// A saved definition as the builder's rows, or null when the builder cannot show it as it is
// (groups, or a field it has no control for): then it is shown as JSON and left unchanged.
function rowsOf(definition) {
  if (!definition || !['all', 'any'].includes(definition.match) || !Array.isArray(definition.conditions)) return null;
  const rows = [];
  for (const item of definition.conditions) {
    if (!item || typeof item !== 'object' || 'conditions' in item || !FIELDS[item.source] || !OPS[item.op]) return null;
    const field = item.field ?? '';
    const prefix = PREFIXES.find((p) => field.startsWith(p) && FIELDS[item.source].some(([f]) => f === p));
    if (!prefix && !FIELDS[item.source].some(([f]) => f === field)) return null;
    const values = Array.isArray(item.value) ? item.value : item.value == null ? [] : [item.value];
    const first = values[0];
    if (values.some((v) => v !== null && typeof v === 'object')) return null;
    rows.push({ source: item.source, field: prefix || field, key: prefix ? field.slice(prefix.length) : '',
      event: item.event ?? '', op: item.op, value: values.map(String).join(', '),
      type: typeof first === 'number' ? 'number' : typeof first === 'boolean' ? 'boolean' : 'string' });
  }
  return rows;
}

// clear() as replaceChildren: a null child would show as the text "null" (a pager of one page is null).
const fill = (el, ...children) => clear(el, ...children.filter((c) => c !== null && c !== undefined));

const span = (ctx) => url.days(ctx.state, ctx.boot.project.timezone);
const rangeText = ({ startAt, endAt }) => (startAt === endAt ? fmt.dayLabel(startAt, true)
  : `${fmt.dayLabel(startAt)} – ${fmt.dayLabel(endAt, true)}`);
const visitors = (n) => `${fmt.count(n)} ${n === 1 ? 'visitor' : 'visitors'}`;

// -- the view --------------------------------------------------------------------------------------

export default { id: 'segments', label: 'Segments', module: 'segments', order: 40, mount };

function mount(root, first) {
  let ctx = first;
  const status = h('div', { class: 'status' });
  const load = loader(root, status);
  let page = null; // what is drawn: 'list', 'new' or a segment id
  let loaded = null; // the variables the drawn numbers answer, as a key
  let builder = null; // the builder on the page, kept across range changes (its edits stay)
  let cursors = [];
  let after = null;
  let timer = null;
  const projectId = () => (ctx.boot.admin ? ctx.boot.project.id : null);
  // This view's own parameters, kept when the range changes.
  const own = () => ({ segment: param('segment'), by: param('by'), compare: param('compare') });

  // The range is the frame's: changing it here changes it for every tab, as in Accounts.
  const range = h('select', { id: 'segments-range', 'aria-label': 'Date range', onchange: () => {
    go(link(ctx, 'segments', own(), { range: range.value, interval: null }));
  } });
  const rangeLabel = h('p', { class: 'range-label muted' });
  function drawRange() {
    fill(range, ...url.RANGES.filter(([r]) => r !== 'custom' || ctx.state.range === 'custom')
      .map(([r, label]) => h('option', { value: r, selected: r === ctx.state.range }, label)));
    range.value = ctx.state.range;
    const s = span(ctx);
    Object.assign(rangeLabel.dataset, { start: s.startAt, end: s.endAt });
    rangeLabel.textContent = rangeText(s);
  }
  const toolbar = (...left) => h('section', { class: 'toolbar' }, ...left, h('span', { class: 'spacer' }), rangeLabel,
    range);

  function show() {
    drawRange();
    const id = param('segment');
    const next = id || 'list';
    if (next !== page) { page = next; loaded = null; builder?.destroy(); builder = null; }
    if (!id) showList();
    else if (id === 'new') showNew();
    else showSegment(id);
  }

  // -- the list, and compare ----------------------------------------------------------------------
  const listBox = h('section', { class: 'panel segments-list', 'aria-labelledby': 'segments-title' });
  const compareBox = h('section', { class: 'panel compare', 'aria-labelledby': 'compare-title' });
  const compareStatus = h('div', { class: 'status' });
  const compareLoad = loader(compareBox, compareStatus);

  let listed = null; // the list's variables, as a key
  let compared = null; // the comparison's

  function showList() {
    const listKey = JSON.stringify([after, span(ctx)]);
    if (!loaded) {
      loaded = 'list';
      listed = compared = null;
      const create = inPage(link(ctx, 'segments', { segment: 'new' }), 'New segment');
      create.className = 'button-link';
      fill(root, toolbar(create), status, listBox, compareBox);
    }
    if (listKey !== listed) {
      listed = listKey;
      fetchList();
    } else runCompare(); // only the pair changed: the pickers stay as they are (and keep focus)
  }

  function fetchList() {
    load.run('the segments', (signal) => ctx.gql(LIST, { first: PAGE_SIZE, after, picker: PICKER }, { signal }),
      (data) => drawList(data?.project), fetchList);
  }

  function drawList(project) {
    const list = project?.segments;
    const head = h('div', { class: 'panel-head' }, h('h2', { id: 'segments-title' }, 'Segments'),
      list ? h('span', { class: 'muted', dataset: { total: String(list.total) } },
        `${fmt.count(list.total)} ${list.total === 1 ? 'segment' : 'segments'}`) : null);
    // Comparing needs two segments to pick from.
    compareBox.hidden = !list || list.total < 2;
    if (!list) return fill(listBox, head);
    if (!list.data.length) {
      return fill(listBox, head, h('div', { class: 'setup' },
        h('p', {}, h('strong', {}, 'No segments yet. '), 'A segment is the visitors who match a few conditions: a trait, ',
          'an event they did, where they came from, how often they visited. ',
          inPage(link(ctx, 'segments', { segment: 'new' }), 'Build the first one'), ' and see how many match as you go.')));
    }
    const move = (step) => {
      if (step > 0) { cursors.push(after); after = list.pageInfo.endCursor; } else { after = cursors.pop() ?? null; }
      show();
    };
    fill(listBox, head,
      h('table', { class: 'admin-table', dataset: { table: 'segments' } },
        h('caption', { class: 'sr-only' }, 'Saved segments, newest first. Choose one to open it.'),
        h('thead', {}, h('tr', {}, ...['Segment', 'Description', 'Active'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, list.data.map((s) => h('tr', { dataset: { segment: s.id, name: s.name } },
          h('th', { scope: 'row' }, inPage(link(ctx, 'segments', { segment: s.id }), s.name)),
          h('td', { class: 'muted' }, s.description || '—'),
          h('td', { dataset: { active: String(s.isActive) } }, s.isActive ? 'Active' : 'Inactive'))))),
      pager('Segment pages', list.pageInfo, cursors, list.total, list.data.length, move));
    if (!compareBox.hidden) drawPickers(project.picker.data);
  }

  // -- compare: two pickers; the comparison is fetched once both name a segment (the URL keeps the pair)
  const compareTable = h('div', {});
  const chosen = () => (param('compare') || '').split(',').slice(0, 2);

  function drawPickers(segments) {
    const ids = chosen();
    const picker = (n, label) => h('div', { class: 'field' }, h('label', { for: `compare-${n}` }, label),
      h('select', { id: `compare-${n}`, onchange: pick }, h('option', { value: '' }, 'Choose a segment…'),
        segments.map((s) => h('option', { value: s.id, selected: s.id === ids[n] }, s.name))));
    fill(compareBox, h('div', { class: 'panel-head' }, h('h2', { id: 'compare-title' }, 'Compare')),
      h('p', { class: 'muted hint' }, 'Two segments side by side over the range: their visitors, and those visitors’ ',
        'sessions, pageviews and events.'),
      h('div', { class: 'fields' }, picker(0, 'First segment'), picker(1, 'Second segment')), compareStatus, compareTable);
    compared = null;
    runCompare();
  }

  function pick() {
    const ids = [0, 1].map((n) => compareBox.querySelector(`#compare-${n}`).value);
    go(link(ctx, 'segments', { compare: ids.some(Boolean) ? ids.join(',') : null }), { replace: true });
  }

  function runCompare() {
    const ids = chosen();
    const key = JSON.stringify([ids, span(ctx)]);
    if (key === compared || !compareBox.querySelector('#compare-0')) return;
    compared = key;
    ids.forEach((id, n) => { compareBox.querySelector(`#compare-${n}`).value = id || ''; }); // after Back
    if (!(ids[0] && ids[1])) {
      compareLoad.abort();
      return fill(compareTable, h('p', { class: 'muted empty' }, 'Choose two segments to compare them.'));
    }
    const fetchCompare = () => compareLoad.run('the comparison',
      (signal) => ctx.gql(COMPARE, { ids, ...span(ctx) }, { signal }),
      (data) => (data ? drawComparison(compareTable, data.project.compareSegments) : clear(compareTable)), fetchCompare);
    fetchCompare();
  }

  function drawComparison(box, rows) {
    fill(box, h('table', { class: 'admin-table compared', dataset: { table: 'compare' } },
      h('caption', { class: 'sr-only' }, `The segments compared, ${rangeText(span(ctx))}`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Figure'),
        rows.map((r) => h('th', { scope: 'col', dataset: { segment: r.segmentId } }, r.name)))),
      h('tbody', {}, COMPARED.map(([key, label, show]) => h('tr', { dataset: { metric: key } },
        h('th', { scope: 'row' }, label),
        rows.map((r) => h('td', { dataset: { segment: r.segmentId, value: String(r[key]) } }, show(r[key]))))))));
  }

  // -- a new segment ------------------------------------------------------------------------------
  function showNew() {
    if (!builder) {
      load.abort(); // the list's request, if it is still under way, has no page to draw on now
      compareLoad.abort();
      builder = createBuilder({ rows: [blank()], match: 'all' });
      fill(root, toolbar(inPage(link(ctx, 'segments'), '← All segments')), status,
        h('section', { class: 'panel segment-definition', 'aria-labelledby': 'builder-title' },
          h('div', { class: 'panel-head' }, h('h2', { id: 'builder-title' }, 'New segment')), builder.element));
      clear(status);
    }
    builder.recount();
  }

  // -- one segment --------------------------------------------------------------------------------
  const summary = h('section', { class: 'panel segment-summary', 'aria-labelledby': 'segment-title' });

  function showSegment(id) {
    const by = BREAKDOWNS.some(([p]) => p === param('by')) ? param('by') : 'country';
    const key = JSON.stringify([id, by, span(ctx)]);
    if (key === loaded) return;
    if (!loaded) {
      clear(summary);
      fill(root, toolbar(inPage(link(ctx, 'segments'), '← All segments')), status, summary);
    }
    loaded = key;
    builder?.recount(); // the range may have changed: the count of the definition being edited follows it
    const fetchOne = () => load.run('the segment',
      (signal) => ctx.gql(SEGMENT, { id, by, ...span(ctx) }, { signal }),
      (data) => data && drawSegment(summary, data.project.segment, by), fetchOne);
    fetchOne();
  }

  function drawSegment(box, s, by) {
    const s2 = span(ctx);
    const focused = box.contains(document.activeElement) ? document.activeElement.id : null; // the breakdown select
    const total = s.evaluate.totalVisitors;
    const breakdown = h('select', { id: 'segment-breakdown', onchange: () => {
      go(link(ctx, 'segments', { segment: s.id, by: breakdown.value }), { replace: true });
    } }, BREAKDOWNS.map(([p, label]) => h('option', { value: p, selected: p === by }, label)));
    const label = BREAKDOWNS.find(([p]) => p === by)[1];
    const rows = s.breakdown;
    const people = ctx.boot.modules.includes('identity');
    fill(box,
      h('div', { class: 'panel-head' }, h('h2', { id: 'segment-title' }, s.name),
        h('span', { class: 'muted', dataset: { active: String(s.isActive) } }, s.isActive ? 'Active' : 'Inactive'),
        h('button', { type: 'button', id: 'segment-delete', class: 'danger', onclick: () => remove(s) }, 'Delete')),
      s.description ? h('p', { class: 'muted hint' }, s.description) : null,
      h('section', { class: 'cards segment-cards', 'aria-label': `The segment, ${rangeText(s2)}` },
        h('div', { class: 'card', dataset: { metric: 'visitors' } }, h('span', { class: 'card-label' }, 'Visitors'),
          h('strong', { class: 'card-value', dataset: { value: String(total) } }, fmt.count(total)),
          h('span', { class: 'muted' }, rangeText(s2)))),
      // The first few members; each opens its profile when the People tab is there.
      s.evaluate.visitors.length ? h('p', { class: 'muted members' }, total > s.evaluate.visitors.length ? 'First visitors: ' : 'Visitors: ',
        s.evaluate.visitors.flatMap((v, i) => [i ? ', ' : '',
          people ? inPage(link(ctx, 'people', { visitor: v }), v) : v])) : null,
      h('div', { class: 'panel-head breakdown-head' }, h('h3', { id: 'breakdown-title' }, `By ${label.toLowerCase()}`),
        h('label', {}, h('span', { class: 'sr-only' }, 'Break down by'), breakdown)),
      rows.length ? h('table', { class: 'admin-table', dataset: { table: 'breakdown', property: by },
        'aria-labelledby': 'breakdown-title' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, label), h('th', { scope: 'col' }, 'Visitors'))),
      h('tbody', {}, rows.map((r) => h('tr', { dataset: { value: r.value } },
        h('th', { scope: 'row', title: r.value }, by === 'country' ? fmt.country(r.value) : r.value),
        h('td', { dataset: { value: String(r.visitors) } }, fmt.count(r.visitors))))))
        : h('p', { class: 'muted empty' }, 'None of the segment’s visitors in this range.'));
    if (focused) box.querySelector(`#${focused}`)?.focus();
    if (!builder) {
      builder = createBuilder({ segment: s, ...(rowsOf(s.definition) ? { rows: rowsOf(s.definition), match: s.definition.match }
        : { raw: s.definition }) });
      root.append(h('section', { class: 'panel segment-definition', 'aria-labelledby': 'builder-title' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'builder-title' }, 'Definition')), builder.element));
      builder.recount();
    }
  }

  async function remove(s) {
    // eslint-disable-next-line no-alert
    if (!window.confirm(`Delete the segment “${s.name}”? Links and scripts that use its id will stop working.`)) return;
    const button = root.querySelector('#segment-delete');
    button.disabled = true;
    try {
      await ctx.gql(DELETE, { id: s.id, projectId: projectId() });
    } catch (err) {
      button.disabled = false;
      fill(status, h('div', { class: 'panel error', role: 'alert' },
        h('p', {}, h('strong', {}, 'The segment could not be deleted. '), err.message)));
      return;
    }
    go(link(ctx, 'segments'));
  }

  // -- the builder ------------------------------------------------------------------------------
  // Conditions as rows of controls; every change redraws nothing but the row it changed (focus
  // stays where it was) and asks for a new count, debounced: the count is of the definition as it
  // stands, over the range, through previewSegment (the engine a saved segment uses).
  function createBuilder({ segment = null, rows = [], match = 'all', raw = null }) {
    let counting = null;
    const count = h('p', { class: 'live-count', role: 'status', dataset: { state: 'idle' } });
    const matchSelect = h('select', { id: 'segment-match', onchange: () => { match = matchSelect.value; changed(); } },
      h('option', { value: 'all', selected: match === 'all' }, 'all'), h('option', { value: 'any', selected: match === 'any' }, 'any'));
    const list = h('ol', { class: 'conditions' });
    const name = h('input', { id: 'segment-name', type: 'text', maxlength: 200, required: true, autocomplete: 'off',
      value: segment?.name || '' });
    const description = h('input', { id: 'segment-description', type: 'text', maxlength: 2000, autocomplete: 'off',
      value: segment?.description || '' });
    const active = h('input', { id: 'segment-active', type: 'checkbox', checked: segment ? segment.isActive : true });
    const saved = h('p', { class: 'save-status', role: 'status' });
    const problem = h('div', {});
    const save = h('button', { type: 'submit', class: 'primary', id: 'segment-save' }, segment ? 'Save changes' : 'Save');
    const definition = () => (raw || definitionOf(match, rows));

    function drawRows() {
      fill(list, ...rows.map((c, i) => row(c, i)));
    }

    function row(c, i) {
      const n = i + 1;
      const item = h('li', { class: 'condition', dataset: { index: String(i) } });
      const control = (label, el) => h('label', { class: 'field' }, h('span', {}, label), el);
      // A change that alters the row's controls draws it again, with focus back on the control used.
      const redraw = (e) => {
        const next = row(c, i);
        item.replaceWith(next);
        next.querySelector(`.${e.target.classList[0]}`)?.focus();
      };
      const select = (cls, options, value, onchange, label) => h('select', { class: cls, 'aria-label': `${label}, condition ${n}`,
        onchange }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
      const input = (cls, value, placeholder, label, oninput) => h('input', { class: cls, type: 'text', value, placeholder,
        autocomplete: 'off', spellcheck: 'false', 'aria-label': `${label}, condition ${n}`, oninput });
      const parts = [];
      parts.push(control('Source', select('c-source', SOURCES, c.source, (e) => {
        c.source = e.target.value;
        [c.field] = FIELDS[c.source][0];
        c.key = '';
        if (!operators(c).includes(c.op)) [c.op] = operators(c);
        redraw(e); changed();
      }, 'Source')));
      if (c.source === 'event') {
        parts.push(control('Event', input('c-event', c.event, 'signup', 'Event name', (e) => { c.event = e.target.value; changed(); })));
      }
      parts.push(control('Field', select('c-field', FIELDS[c.source], c.field, (e) => {
        c.field = e.target.value;
        if (!operators(c).includes(c.op)) [c.op] = operators(c);
        redraw(e); changed();
      }, 'Field')));
      if (PREFIXES.includes(c.field)) {
        parts.push(control(c.field === 'traits.' ? 'Trait' : 'Property', input('c-key', c.key,
          c.field === 'traits.' ? 'plan' : 'amount', c.field === 'traits.' ? 'Trait name' : 'Property name',
          (e) => { c.key = e.target.value; changed(); })));
      }
      if (c.source === 'metric' && c.field === 'events') {
        parts.push(control('Event (optional)', input('c-event', c.event, 'any event', 'Event name',
          (e) => { c.event = e.target.value; changed(); })));
      }
      parts.push(control('Operator', select('c-op', operators(c).map((o) => [o, OPS[o]]), c.op, (e) => {
        c.op = e.target.value;
        redraw(e); changed();
      }, 'Operator')));
      if (!PRESENCE.includes(c.op)) {
        // A trait or property is JSON: its type is the user's to say (5 is not "5" to the language).
        const choosable = kind(c) === 'any' && ['eq', 'neq', 'in'].includes(c.op);
        if (choosable) {
          const types = [['string', 'Text'], ['number', 'Number'], ...(c.op === 'in' ? [] : [['boolean', 'True/false']])];
          if (!types.some(([t]) => t === c.type)) c.type = 'string';
          parts.push(control('Type', select('c-type', types, c.type, (e) => {
            c.type = e.target.value;
            if (c.type === 'boolean' && !['true', 'false'].includes(c.value)) c.value = 'true';
            redraw(e); changed();
          }, 'Value type')));
        }
        const type = valueType(c);
        parts.push(control(c.op === 'in' ? 'Values (comma-separated)' : 'Value', type === 'boolean'
          ? select('c-value', [['true', 'true'], ['false', 'false']], c.value, (e) => { c.value = e.target.value; changed(); }, 'Value')
          : h('input', { class: 'c-value', type: 'text', inputmode: type === 'number' && c.op !== 'in' ? 'decimal' : null,
            value: c.value, autocomplete: 'off', spellcheck: 'false', 'aria-label': `Value, condition ${n}`,
            placeholder: c.op === 'in' ? 'US, CA' : '', oninput: (e) => { c.value = e.target.value; changed(); } })));
      }
      parts.push(h('button', { type: 'button', class: 'quiet remove', 'aria-label': `Remove condition ${n}`, onclick: () => {
        rows.splice(i, 1);
        drawRows(); changed();
        (list.querySelectorAll('.remove')[Math.min(i, rows.length - 1)] || addButton).focus();
      } }, 'Remove'));
      item.append(h('div', { class: 'fields' }, ...parts));
      return item;
    }

    const addButton = h('button', { type: 'button', id: 'segment-add', onclick: () => {
      rows.push(blank());
      drawRows(); changed();
      list.lastElementChild.querySelector('select').focus();
    } }, 'Add condition');

    function changed() {
      clear(saved);
      clearTimeout(timer);
      say('counting', 'Counting…');
      timer = setTimeout(recount, DEBOUNCE);
    }

    function say(state, ...children) {
      for (const key of Object.keys(count.dataset)) delete count.dataset[key];
      count.dataset.state = state;
      fill(count, ...children);
    }

    async function recount() {
      clearTimeout(timer);
      counting?.abort();
      const controller = (counting = new AbortController());
      const s = span(ctx);
      say('counting', 'Counting…');
      try {
        const data = await ctx.gql(PREVIEW, { definition: definition(), ...s }, { signal: controller.signal });
        if (counting !== controller) return;
        const n = data.project.previewSegment.totalVisitors;
        say('counted', h('strong', {}, visitors(n)), ` ${n === 1 ? 'matches' : 'match'}, ${rangeText(s)}.`);
        count.dataset.total = String(n);
      } catch (err) {
        if (err.name === 'AbortError' || counting !== controller) return;
        // An invalid definition is a 400 naming the bad condition: said here, where it is being written.
        say(err.code === 'BAD_REQUEST' ? 'invalid' : 'failed', err.message);
      }
    }

    async function submit(e) {
      e.preventDefault();
      clear(problem);
      clear(saved);
      save.disabled = true;
      const input = { name: name.value, description: description.value.trim() || null, isActive: active.checked,
        ...(raw ? {} : { definition: definition() }) };
      try {
        if (segment) {
          await ctx.gql(UPDATE, { id: segment.id, input, projectId: projectId() });
          Object.assign(segment, input);
          fill(saved, 'Saved.');
          loaded = 'saved'; // not the drawn key: the summary reloads (the saved name, the new count), the builder stays
          show();
        } else {
          const made = (await ctx.gql(CREATE, { input, projectId: projectId() })).createSegment;
          go(link(ctx, 'segments', { segment: made.id }));
        }
      } catch (err) {
        // A session whose key may not write the module gets FORBIDDEN, said as the server says it.
        fill(problem, h('div', { class: 'panel error', role: 'alert' },
          h('p', {}, h('strong', {}, 'The segment could not be saved. '), err.message)));
      } finally {
        save.disabled = false;
      }
    }

    const conditions = raw ? [
      h('p', { class: 'muted hint' }, 'This definition has groups or fields the builder does not edit, so it is shown as ',
        'saved; the name, description and active state can still change here, the definition through the API.'),
      h('pre', { class: 'definition' }, h('code', {}, JSON.stringify(raw, null, 2)))]
      : [h('p', { class: 'match' }, h('label', { for: 'segment-match' }, 'Visitors who match '), matchSelect,
        h('span', {}, ' of these conditions:')), list, h('div', { class: 'row' }, addButton)];
    const element = h('form', { class: 'builder', onsubmit: submit, novalidate: true },
      ...conditions, count,
      h('div', { class: 'fields save-fields' },
        h('div', { class: 'field' }, h('label', { for: 'segment-name' }, 'Name'), name),
        h('div', { class: 'field grow' }, h('label', { for: 'segment-description' }, 'Description (optional)'), description),
        h('label', { class: 'check' }, active, 'Active (offered by segment pickers)'), save),
      saved, problem);
    if (!raw) drawRows();
    return { element, recount, destroy() { clearTimeout(timer); counting?.abort(); } };
  }

  show();
  return {
    update(next) { ctx = next; show(); },
    destroy() { load.abort(); compareLoad.abort(); builder?.destroy(); clearTimeout(timer); },
  };
}
