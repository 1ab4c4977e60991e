// People (module `identity`): the profiles identify calls built, searchable and paged, and one
// profile (traits, aliases, accounts, its latest sessions with their pageviews and events) and, for
// an admin session, the visitor's privacy rights (export everything held about them, or delete it).
// The view's own place is in the URL beside the frame's state: `q` (the search) and `visitor`
// (the profile shown), so a link reopens it and Back returns to the list. The helpers exported
// here are shared with the Accounts view (views/accounts.js).
import { h, clear } from '../dom.js';
import * as fmt from '../format.js';

const PAGE = 25;
const TIMELINE = 20; // sessions
const DEBOUNCE = 300; // ms between the last keystroke and the search

const LIST = `query People($first: Int!, $after: String, $search: String) {
  project { profiles(first: $first, after: $after, search: $search) {
    total pageInfo { endCursor hasNextPage } data { visitorId userId traits lastSeenAt }
  } }
}`;
const PROFILE = `query Person($visitorId: String!, $limit: Int!) {
  project { profile(visitorId: $visitorId) {
    visitorId userId traits firstSeenAt lastSeenAt
    accounts { accountId role lastSeenAt }
    aliases { visitorId createdAt }
    timeline(limit: $limit) { id startedAt endedAt entryPath pageviews events duration activity { kind ts path name } }
  } }
}`;
// DSAR (docs/privacy.md): the admin session's project is the X-Pulse-Project header api.js sends.
const EXPORT = `query VisitorExport($visitorId: String!) { visitorExport(visitorId: $visitorId) }`;
const FORGET = `mutation ForgetVisitor($visitorId: String!) {
  deleteVisitorData(visitorId: $visitorId) { visitorId requestId status deleted }
}`;
// Report rows a delete corrects rather than deletes (pulse/privacy/forget.py names them so).
const CORRECTED = ['daily_rollups', 'session_rollups'];
// A privacy request is a record someone may be held to: its counts are exact, never "1.2M".
const exact = new Intl.NumberFormat('en-US');
const rowsOf = (n, one = 'row', many = `${one}s`) => `${exact.format(n)} ${n === 1 ? one : many}`;

// -- shared with views/accounts.js ---------------------------------------------------------------

// The view's own URL parameters. state.js writes only the frame's (range, filters, tab...), so a
// view's address is the frame's plus these; `go` pushes it and lets the frame re-read the URL
// (its popstate handler), which mounts the tab or updates the view that is shown.
export const param = (name) => new URLSearchParams(location.search).get(name);

export function link(ctx, tab, params = {}, state = {}) {
  const target = new URL(ctx.href({ ...ctx.state, ...state, tab }), location.href);
  for (const [name, value] of Object.entries(params)) if (value) target.searchParams.set(name, value);
  return `${target.pathname}${target.search}`;
}

export function go(address, { replace = false } = {}) {
  history[replace ? 'replaceState' : 'pushState'](null, '', address);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

// A link that stays in the page (a plain link still works: opened in a new tab, it loads there).
export const inPage = (address, ...children) => h('a', { href: address, onclick: (e) => {
  if (e.button || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  go(address);
} }, ...children);

// Times as the project's clock reads them (its time zone, as the reports count days).
export function clock(timeZone) {
  const f = new Intl.DateTimeFormat('en-US', { timeZone, dateStyle: 'medium', timeStyle: 'short' });
  const t = new Intl.DateTimeFormat('en-US', { timeZone, timeStyle: 'short' });
  return {
    stamp: (iso) => (iso ? f.format(new Date(iso)) : '—'),
    time: (iso) => t.format(new Date(iso)),
    at: (iso) => h('time', { datetime: iso }, iso ? f.format(new Date(iso)) : '—'),
  };
}

// A trait's value as text (never markup): strings as they are, anything else as its JSON.
export const text = (value) => (typeof value === 'string' ? value : JSON.stringify(value));

export function traitList(traits, none = 'No traits.') {
  const entries = Object.entries(traits || {});
  if (!entries.length) return h('p', { class: 'muted empty' }, none);
  return h('dl', { class: 'traits' }, entries.flatMap(([name, value]) => [
    h('dt', {}, name), h('dd', { dataset: { trait: name } }, text(value))]));
}

// A short line of traits for a list row: "plan: pro · name: Ada".
export const traitLine = (traits, most = 3) => Object.entries(traits || {}).slice(0, most)
  .map(([name, value]) => `${name}: ${text(value)}`).join(' · ');

// Loading, error (with Retry) and empty states, as the overview shows them.
export function loader(root, status) {
  let request = null;
  return {
    async run(what, fetch, draw, retry) {
      request?.abort();
      const controller = (request = new AbortController());
      root.setAttribute('aria-busy', 'true');
      root.classList.add('loading');
      clear(status, h('p', { class: 'muted pad' }, `Loading ${what}…`));
      try {
        const data = await fetch(controller.signal);
        if (request !== controller) return;
        clear(status);
        draw(data);
      } catch (err) {
        if (err.name === 'AbortError' || request !== controller) return;
        clear(status, h('div', { class: 'panel error', role: 'alert' },
          h('p', {}, h('strong', {}, `${what[0].toUpperCase()}${what.slice(1)} could not be loaded. `), err.message),
          err.code === 'NOT_FOUND' ? null : h('button', { type: 'button', onclick: retry }, 'Retry')));
        draw(null, err);
      } finally {
        if (request === controller) {
          root.removeAttribute('aria-busy');
          root.classList.remove('loading');
        }
      }
    },
    abort() { request?.abort(); },
  };
}

// Previous / Next over a cursor list: `stack` holds the cursors of the pages before this one.
export function pager(label, page, stack, total, shown, move) {
  const first = stack.length * PAGE + 1;
  if (!total || (!stack.length && !page.hasNextPage)) return null; // one page: the heading has the count
  return h('nav', { class: 'pager', 'aria-label': label },
    h('button', { type: 'button', disabled: !stack.length, onclick: () => move(-1) }, 'Previous'),
    h('span', { class: 'muted', 'aria-live': 'polite' }, `${fmt.count(first)}–${fmt.count(first + shown - 1)} of ${fmt.count(total)}`),
    h('button', { type: 'button', disabled: !page.hasNextPage, onclick: () => move(1) }, 'Next'));
}

export const PAGE_SIZE = PAGE;

export const example = (lines) => h('pre', {}, h('code', {}, lines.join('\n')));

// -- saving a file ------------------------------------------------------------------------------

// A visitor id as part of a file name: characters some systems refuse there become "_".
const fileSafe = (id) => id.replace(/[\\/:*?"<>|\s]/g, '_');

// The answer already in hand, saved as a file: a Blob behind a temporary <a download> (no second
// request, so nothing to authorize twice, and no export in a URL or the browser's history).
function save(name, text) {
  const address = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = h('a', { href: address, download: name, hidden: true });
  document.body.append(a); // Firefox follows only a link in the document
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(address), 10000); // revoked at once, a slow save could lose it
}

// -- the view --------------------------------------------------------------------------------------

export default { id: 'people', label: 'People', module: 'identity', order: 30, mount };

function mount(root, first) {
  let ctx = first;
  const times = () => clock(ctx.boot.project.timezone);
  const status = h('div', { class: 'status' });
  const body = h('div', {});
  const load = loader(root, status);
  let shown = null; // 'list' or a visitor id
  let query = null; // the search the list shows
  let cursors = []; // the list's earlier pages
  let after = null;

  // -- the list ---------------------------------------------------------------------------------
  let timer = null;
  const search = h('input', { type: 'search', id: 'people-search', 'aria-label': 'Search profiles',
    placeholder: 'Search by id or trait (plan:pro)', maxlength: 200, autocomplete: 'off', spellcheck: 'false',
    oninput: () => {
      clearTimeout(timer);
      timer = setTimeout(() => go(link(ctx, 'people', { q: search.value.trim() }), { replace: true }), DEBOUNCE);
    } });
  const listBox = h('section', { class: 'panel people', 'aria-labelledby': 'people-title' });

  function showList() {
    if (shown !== 'list') {
      clear(root, h('section', { class: 'toolbar' }, h('label', { class: 'search' },
        h('span', { class: 'sr-only' }, 'Search profiles'), search)), status, listBox);
      shown = 'list';
    }
    const q = param('q') || '';
    if (document.activeElement !== search) search.value = q;
    if (q !== query) { query = q; cursors = []; after = null; }
    fetchList();
  }

  function fetchList() {
    const q = query;
    load.run('the profiles', (signal) => ctx.gql(LIST, { first: PAGE, after, search: q || null }, { signal }),
      (data) => drawList(data?.project.profiles, q), fetchList);
  }

  function drawList(list, q) {
    const head = h('div', { class: 'panel-head' }, h('h2', { id: 'people-title' }, 'People'),
      list ? h('span', { class: 'muted', dataset: { total: String(list.total) } },
        `${fmt.count(list.total)} ${list.total === 1 ? 'profile' : 'profiles'}${q ? ' found' : ''}`) : null);
    if (!list) return clear(listBox, head);
    if (!list.data.length) {
      return clear(listBox, head, q
        ? h('p', { class: 'muted empty' }, `No profile matches “${q}”. Search looks in visitor ids, user ids and `,
          'trait values; plan:pro looks in the plan trait only.')
        : h('div', { class: 'setup' }, h('p', {}, h('strong', {}, 'No profiles yet: send an identify call.'),
          ' A profile is made the first time a visitor is identified, for example from the page:'),
        example(["pulse('identify', 'user-42', { plan: 'pro', email: 'ada@example.com' });"]),
        h('p', { class: 'muted' }, 'or with ', h('code', {}, 'POST /api/collect'), ' and ',
          h('code', {}, '{"type": "identify", "visitor_id": "…", "payload": {"user_id": "user-42", "traits": {"plan": "pro"}}}'),
          '.')));
    }
    const t = times();
    const move = (step) => {
      if (step > 0) { cursors.push(after); after = list.pageInfo.endCursor; } else { after = cursors.pop() ?? null; }
      fetchList();
    };
    clear(listBox, head,
      h('table', { class: 'admin-table', dataset: { table: 'profiles' } },
        h('caption', { class: 'sr-only' }, 'Profiles, most recently seen first. Choose one to open it.'),
        h('thead', {}, h('tr', {}, ...['Visitor', 'User', 'Traits', 'Last seen'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, list.data.map((p) => h('tr', { dataset: { visitor: p.visitorId } },
          h('th', { scope: 'row' }, inPage(link(ctx, 'people', { q, visitor: p.visitorId }), p.visitorId)),
          h('td', {}, p.userId || h('span', { class: 'muted' }, 'anonymous')),
          h('td', { class: 'muted', title: traitLine(p.traits, 20) }, traitLine(p.traits)),
          h('td', {}, t.at(p.lastSeenAt)))))),
      pager('Profile pages', list.pageInfo, cursors, list.total, list.data.length, move));
  }

  // -- one profile --------------------------------------------------------------------------------
  function showProfile(visitor) {
    shown = visitor;
    const back = inPage(link(ctx, 'people', { q: param('q') }), '← All people');
    const box = h('div', { class: 'profile' });
    clear(root, h('section', { class: 'toolbar' }, back), status, box);
    const fetchOne = () => load.run('the profile',
      (signal) => ctx.gql(PROFILE, { visitorId: visitor, limit: TIMELINE }, { signal }),
      (data) => data && drawProfile(box, data.project.profile), fetchOne);
    fetchOne();
  }

  function drawProfile(box, p) {
    const t = times();
    const facts = h('dl', { class: 'facts' },
      h('dt', {}, 'Visitor id'), h('dd', { dataset: { fact: 'visitor' } }, p.visitorId),
      h('dt', {}, 'User id'), h('dd', { dataset: { fact: 'user' } }, p.userId || 'anonymous'),
      h('dt', {}, 'First seen'), h('dd', { dataset: { fact: 'first' } }, t.at(p.firstSeenAt)),
      h('dt', {}, 'Last seen'), h('dd', { dataset: { fact: 'last' } }, t.at(p.lastSeenAt)));
    const others = p.aliases.filter((a) => a.visitorId !== p.visitorId);
    const aliases = p.userId ? (others.length ? h('ul', { class: 'plain', dataset: { list: 'aliases' } }, others.map((a) => h('li', {},
      inPage(link(ctx, 'people', { visitor: a.visitorId }), a.visitorId), h('span', { class: 'muted' }, ` since ${t.stamp(a.createdAt)}`))))
      : h('p', { class: 'muted empty' }, `No other visitor id is linked to ${p.userId}.`))
      : h('p', { class: 'muted empty' }, 'Anonymous: an identify call with a user_id links this visitor to a user.');
    const accounts = p.accounts.length ? h('ul', { class: 'plain', dataset: { list: 'accounts' } }, p.accounts.map((a) => h('li', {},
      inPage(link(ctx, 'accounts', { account: a.accountId }), a.accountId),
      a.role ? h('span', { class: 'muted' }, ` · ${a.role}`) : null)))
      : h('p', { class: 'muted empty' }, 'In no account: an identify call with an account attaches the visitor to one.');
    clear(box,
      h('section', { class: 'panel', 'aria-labelledby': 'profile-title' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'profile-title' }, p.userId || p.visitorId)), facts,
        h('h3', {}, 'Traits'), traitList(p.traits, 'No traits: identify calls have sent none.')),
      h('div', { class: 'grid' },
        h('section', { class: 'panel', 'aria-labelledby': 'aliases-title' },
          h('h2', { id: 'aliases-title' }, 'Aliases'), aliases),
        h('section', { class: 'panel', 'aria-labelledby': 'accounts-title' },
          h('h2', { id: 'accounts-title' }, 'Accounts'), accounts)),
      timeline(p.timeline, t),
      // Only an admin session may export or delete (the fields need the project's admin scope, which
      // no dashboard key holds), so a key session is not offered buttons that could only fail.
      ctx.boot.admin ? privacy(box, p, others) : null);
  }

  // -- the visitor's privacy rights (admin sessions) ----------------------------------------------
  function privacy(box, p, others) {
    const id = p.visitorId;
    const note = h('p', { class: 'privacy-status', role: 'status', dataset: { state: 'idle' } });
    const problem = h('div', {});
    const back = h('p', {}, inPage(link(ctx, 'people', { q: param('q') }), 'Back to all people'));
    const exportButton = h('button', { type: 'button', id: 'privacy-export', onclick: exportData }, 'Export data');
    const deleteButton = h('button', { type: 'button', id: 'privacy-delete', class: 'danger', onclick: deleteData },
      'Delete data');
    const head = h('div', { class: 'panel-head' }, h('h2', { id: 'privacy-title' }, 'Privacy'));
    const panel = h('section', { class: 'panel privacy', 'aria-labelledby': 'privacy-title', dataset: { visitor: id } },
      head,
      h('p', { class: 'muted hint' }, `Everything Pulse holds about ${id}, as a JSON file, or deleted everywhere, `,
        'reports included (a data subject request). Both are recorded in the audit log.',
        // A request covers one visitor id: the user's other ids are theirs to ask for one by one.
        others.length ? ` The other visitor ids linked to ${p.userId} (Aliases) are not included: open each to ask for it.`
          : ''),
      h('div', { class: 'row' }, exportButton, deleteButton), note, problem);
    // The status line's text, and its data-* (the state and its counts, for tests and styles) alone.
    const say = (data, ...children) => {
      for (const name of Object.keys(note.dataset)) delete note.dataset[name];
      Object.assign(note.dataset, data);
      clear(note, ...children);
    };
    const busy = (on) => {
      exportButton.disabled = deleteButton.disabled = on;
      if (on) panel.setAttribute('aria-busy', 'true'); else panel.removeAttribute('aria-busy');
    };
    const fail = (what, err) => {
      say({ state: 'failed' });
      clear(problem, h('div', { class: 'panel error', role: 'alert' },
        h('p', {}, h('strong', {}, `${what} `), err.message)));
    };
    // The answer can come after the view has moved on (an export is read in one snapshot, a delete
    // waits up to 4 s for the writer): then it is not drawn, nor a file saved out of the blue.
    const gone = () => !panel.isConnected;

    async function exportData() {
      busy(true);
      clear(problem);
      say({ state: 'exporting' }, `Exporting ${id}…`);
      try {
        const { visitorExport: exported } = await ctx.gql(EXPORT, { visitorId: id });
        if (gone()) return;
        const name = `visitor-${fileSafe(id)}.json`;
        save(name, JSON.stringify(exported, null, 2));
        const n = Object.values(exported.counts || {}).reduce((a, b) => a + b, 0);
        say({ state: 'exported', rows: String(n) }, `Exported ${rowsOf(n)} as ${name}.`);
      } catch (err) {
        if (!gone()) fail('The export failed.', err);
      } finally {
        busy(false);
      }
    }

    async function deleteData() {
      // eslint-disable-next-line no-alert
      if (!window.confirm(`Delete everything Pulse holds about visitor ${id}${p.userId ? ` (user ${p.userId})` : ''}? `
        + 'This cannot be undone: their profile, sessions, pageviews and events are deleted, and reports will no '
        + 'longer count them.')) return;
      busy(true);
      clear(problem);
      say({ state: 'deleting' }, `Deleting ${id}…`);
      let answer;
      try {
        answer = (await ctx.gql(FORGET, { visitorId: id })).deleteVisitorData;
      } catch (err) {
        if (!gone()) fail('The delete failed.', err);
        busy(false);
        return;
      }
      if (gone()) return;
      if (answer.status !== 'deleted') {
        // The ingest writer applies the delete in stream order and had not reached it in time; it
        // still will (asking again is harmless, so Delete stays available).
        busy(false);
        say({ state: 'pending', request: answer.requestId }, h('strong', {}, 'Deletion requested. '),
          `Pulse is still applying it; it will complete shortly (request ${answer.requestId}).`);
        panel.append(back);
        return;
      }
      const counts = answer.deleted || {};
      const total = Object.entries(counts).reduce((sum, [table, n]) => (CORRECTED.includes(table) ? sum : sum + n), 0);
      const corrected = CORRECTED.reduce((sum, table) => sum + (counts[table] || 0), 0);
      const [pageviews, sessions, events] = ['pageviews', 'sessions', 'events'].map((table) => counts[table] || 0);
      say({ state: 'deleted', total: String(total), pageviews: String(pageviews), sessions: String(sessions),
        events: String(events) }, h('strong', {}, `Deleted ${rowsOf(total)} about ${id}: `),
        `${rowsOf(pageviews, 'pageview')}, ${rowsOf(sessions, 'session')}, ${rowsOf(events, 'event')}`,
        corrected ? `; ${rowsOf(corrected, 'report row')} corrected` : '',
        '. Reports no longer count them.');
      // The profile is gone: what the page showed of it no longer exists, so only the answer stays.
      clear(panel, head, note, back);
      clear(box, panel);
      back.querySelector('a').focus();
    }

    return panel;
  }

  function timeline(sessions, t) {
    const items = sessions.map((s) => h('li', { class: 'session', dataset: { session: s.id } },
      h('p', { class: 'session-head' }, h('strong', {}, t.at(s.startedAt)),
        h('span', { class: 'muted' }, ` · ${fmt.duration(s.duration)} · ${s.pageviews} ${s.pageviews === 1 ? 'pageview' : 'pageviews'}`,
          ` · ${s.events} ${s.events === 1 ? 'event' : 'events'}`)),
      h('ol', { class: 'activity' }, [...s.activity].reverse().map((a) => h('li', { dataset: { kind: a.kind } },
        h('time', { datetime: a.ts, class: 'muted' }, t.time(a.ts)),
        h('span', { class: 'kind' }, a.kind === 'pageview' ? 'Viewed' : 'Event'),
        h('span', { class: 'what' }, a.kind === 'pageview' ? a.path || '/' : a.name || ''))))));
    return h('section', { class: 'panel timeline', 'aria-labelledby': 'timeline-title' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'timeline-title' }, 'Timeline'),
        h('span', { class: 'muted' }, `Latest ${TIMELINE} sessions, newest first; times in ${ctx.boot.project.timezone}`)),
      items.length ? h('ol', { class: 'sessions' }, items)
        : h('p', { class: 'muted empty' }, 'No sessions yet: pageviews and events sent with this visitor id show here.'));
  }

  function show() {
    const visitor = param('visitor');
    if (visitor) { if (visitor !== shown) showProfile(visitor); } else showList();
  }

  show();
  return {
    update(next) { ctx = next; show(); },
    destroy() { clearTimeout(timer); load.abort(); },
  };
}
