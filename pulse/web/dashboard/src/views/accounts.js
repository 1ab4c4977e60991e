// Accounts (module `identity`): the accounts identify calls attached visitors to, and one account
// (`?tab=accounts&account=...`): its traits, its members (each links to the profile in People) and
// its analytics over the dashboard's range (the frame's `range`, as the overview shows it).
import { h, clear } from '../dom.js';
import * as fmt from '../format.js';
import * as url from '../state.js';
import { clock, example, go, inPage, link, loader, pager, param, traitLine, traitList, PAGE_SIZE } from './people.js';

const LIST = `query Accounts($first: Int!, $after: String) {
  project { accounts(first: $first, after: $after) {
    total pageInfo { endCursor hasNextPage } data { accountId traits memberCount lastSeenAt }
  } }
}`;
const ACCOUNT = `query Account($id: String!, $first: Int!, $after: String, $startAt: String!, $endAt: String!) {
  project { account(id: $id) {
    accountId traits memberCount firstSeenAt lastSeenAt
    members(first: $first, after: $after) {
      total pageInfo { endCursor hasNextPage } data { visitorId userId role lastSeenAt }
    }
    analytics(startAt: $startAt, endAt: $endAt) {
      startAt endAt members identifiedUsers activeMembers sessions pageviews events revenue
      revenueByCurrency { currency amount }
    }
  } }
}`;

const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const FIGURES = [
  ['members', 'Members', 'Visitors attached to the account (all time)'],
  ['identifiedUsers', 'Identified users', 'Distinct user ids among the members (all time)'],
  ['activeMembers', 'Active members', 'Members with a pageview or event in the range'],
  ['sessions', 'Sessions', 'The members’ sessions that began in the range'],
  ['pageviews', 'Pageviews', null],
  ['events', 'Events', null],
  ['revenue', 'Revenue', 'Every currency added together'],
];

export default { id: 'accounts', label: 'Accounts', module: 'identity', order: 31, mount };

function mount(root, first) {
  let ctx = first;
  const status = h('div', { class: 'status' });
  const load = loader(root, status);
  let shown = null; // the loaded variables, as a key
  let cursors = [];
  let after = null;
  let account = null;

  function show() {
    const id = param('account');
    if (id !== account) { account = id; cursors = []; after = null; shown = null; }
    if (id) showAccount(id); else showList();
  }

  // -- the list ---------------------------------------------------------------------------------
  function showList() {
    if (shown === 'list') return;
    shown = 'list';
    const box = h('section', { class: 'panel', 'aria-labelledby': 'accounts-title' });
    clear(root, status, box);
    const fetchList = () => load.run('the accounts', (signal) => ctx.gql(LIST, { first: PAGE_SIZE, after }, { signal }),
      (data) => drawList(box, data?.project.accounts, fetchList), fetchList);
    fetchList();
  }

  function drawList(box, list, again) {
    const head = h('div', { class: 'panel-head' }, h('h2', { id: 'accounts-title' }, 'Accounts'),
      list ? h('span', { class: 'muted', dataset: { total: String(list.total) } },
        `${fmt.count(list.total)} ${list.total === 1 ? 'account' : 'accounts'}`) : null);
    if (!list) return clear(box, head);
    if (!list.data.length) {
      return clear(box, head, h('div', { class: 'setup' },
        h('p', {}, h('strong', {}, 'No accounts yet: send an identify call with an account.'),
          ' It attaches the visitor to the account (a company, a team), with its traits and the member’s role:'),
        example(["pulse('identify', { user_id: 'user-42', account: { id: 'acme', traits: { plan: 'enterprise' }, role: 'admin' } });"])));
    }
    const t = clock(ctx.boot.project.timezone);
    const move = (step) => {
      if (step > 0) { cursors.push(after); after = list.pageInfo.endCursor; } else { after = cursors.pop() ?? null; }
      again();
    };
    clear(box, head,
      h('table', { class: 'admin-table', dataset: { table: 'accounts' } },
        h('caption', { class: 'sr-only' }, 'Accounts, most recently seen first. Choose one to open it.'),
        h('thead', {}, h('tr', {}, ...['Account', 'Members', 'Traits', 'Last seen'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, list.data.map((a) => h('tr', { dataset: { account: a.accountId } },
          h('th', { scope: 'row' }, inPage(link(ctx, 'accounts', { account: a.accountId }), a.accountId)),
          h('td', { dataset: { value: String(a.memberCount) } }, fmt.count(a.memberCount)),
          h('td', { class: 'muted', title: traitLine(a.traits, 20) }, traitLine(a.traits)),
          h('td', {}, t.at(a.lastSeenAt)))))),
      pager('Account pages', list.pageInfo, cursors, list.total, list.data.length, move));
  }

  // -- one account --------------------------------------------------------------------------------
  function showAccount(id) {
    const span = url.days(ctx.state, ctx.boot.project.timezone);
    const key = JSON.stringify([id, span, after]);
    if (key === shown) return;
    const fresh = !shown || JSON.parse(shown)[0] !== id;
    shown = key;
    const range = h('select', { id: 'account-range', 'aria-label': 'Date range', onchange: () => {
      go(link(ctx, 'accounts', { account: id }, { range: range.value, interval: null }));
    } }, url.RANGES.filter(([r]) => r !== 'custom' || ctx.state.range === 'custom')
      .map(([r, label]) => h('option', { value: r, selected: r === ctx.state.range }, label)));
    const box = h('div', { class: 'account' });
    if (fresh || !root.querySelector('.account')) {
      clear(root, h('section', { class: 'toolbar' }, inPage(link(ctx, 'accounts'), '← All accounts'),
        h('span', { class: 'spacer' }), range), status, box);
    } else {
      root.querySelector('#account-range').replaceWith(range);
      root.querySelector('.account').replaceWith(box);
    }
    const fetchOne = () => load.run('the account', (signal) => ctx.gql(ACCOUNT,
      { id, first: PAGE_SIZE, after, ...span }, { signal }), (data) => data && drawAccount(box, data.project.account),
    fetchOne);
    fetchOne();
  }

  function drawAccount(box, a) {
    const t = clock(ctx.boot.project.timezone);
    const stats = a.analytics;
    const many = url.daysBetween(stats.startAt, stats.endAt);
    const label = many === 1 ? fmt.dayLabel(stats.startAt, true)
      : `${fmt.dayLabel(stats.startAt)} – ${fmt.dayLabel(stats.endAt, true)}`;
    const byCurrency = stats.revenueByCurrency.map((r) => `${money.format(r.amount)} ${r.currency || '(no currency)'}`).join(' + ');
    const cards = h('section', { class: 'cards account-cards', 'aria-label': `Analytics, ${label}`,
      dataset: { start: stats.startAt, end: stats.endAt } }, FIGURES.map(([key, name, help]) => h('div', {
      class: 'card', dataset: { metric: key }, title: key === 'revenue' && byCurrency ? byCurrency : help },
    h('span', { class: 'card-label' }, name),
    h('strong', { class: 'card-value', dataset: { value: String(stats[key]) } },
      key === 'revenue' ? money.format(stats[key]) : fmt.count(stats[key])))));
    const members = a.members;
    const move = (step) => {
      if (step > 0) { cursors.push(after); after = members.pageInfo.endCursor; } else { after = cursors.pop() ?? null; }
      showAccount(a.accountId);
    };
    clear(box,
      h('section', { class: 'panel', 'aria-labelledby': 'account-title' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'account-title' }, a.accountId),
          h('span', { class: 'muted' }, `First seen ${t.stamp(a.firstSeenAt)} · last seen ${t.stamp(a.lastSeenAt)}`)),
        h('h3', {}, 'Traits'), traitList(a.traits, 'No traits: identify calls have sent none for this account.')),
      h('h2', { class: 'section-title' }, `Analytics, ${label}`,
        h('span', { class: 'sr-only' }, ' (the members’ activity)')), cards,
      byCurrency ? h('p', { class: 'muted more' }, `Revenue by currency: ${byCurrency}`) : null,
      h('section', { class: 'panel', 'aria-labelledby': 'members-title' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'members-title' }, 'Members'),
          h('span', { class: 'muted' }, `${fmt.count(members.total)} in all`)),
        members.data.length ? h('table', { class: 'admin-table', dataset: { table: 'members' } },
          h('caption', { class: 'sr-only' }, 'Members, most recently seen first. Choose one to open the profile.'),
          h('thead', {}, h('tr', {}, ...['Visitor', 'User', 'Role', 'Last seen'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, members.data.map((m) => h('tr', { dataset: { visitor: m.visitorId } },
            h('th', { scope: 'row' }, inPage(link(ctx, 'people', { visitor: m.visitorId }), m.visitorId)),
            h('td', {}, m.userId || h('span', { class: 'muted' }, 'anonymous')),
            h('td', {}, m.role || '—'), h('td', {}, t.at(m.lastSeenAt))))))
          : h('p', { class: 'muted empty' }, 'No members.'),
        pager('Member pages', members.pageInfo, cursors, members.total, members.data.length, move)));
  }

  show();
  return {
    update(next) { ctx = next; show(); },
    destroy() { load.abort(); },
  };
}
