// The admin area, for an admin session only: the projects (list, create), and for the current
// project its tracking snippet (with a "waiting for the first pageview" state that polls), its
// keys (create, shown once; revoke) and its modules (on, off). Everything goes through GraphQL's
// admin fields: the session cookie counts for them because they are JSON POSTs from this origin.
import { h, clear } from '../dom.js';
import { today, addDays } from '../state.js';

const POLL_EVERY = 2000; // the first-pageview check: one cheap rollup read
const SCOPES = [
  ['ingest', 'ingest: sends data (public, for the snippet)'],
  ['query', 'query: reads reports (the dashboard, the API)'],
  ['admin', 'admin: manages this project'],
];

const PROJECT = `query AdminProject($id: ID!) {
  project(id: $id) {
    id name domain timezone createdAt
    keys { id name keyPrefix scopes createdAt lastUsedAt expiresAt }
    modules { name category description enabled }
  }
}`;
const PAGEVIEWS = `query FirstPageview($id: ID!, $startAt: String!, $endAt: String!) {
  project(id: $id) { stats(startAt: $startAt, endAt: $endAt) { current { pageviews } } }
}`;
const CREATE_PROJECT = `mutation CreateProject($name: String!, $domain: String!, $timezone: String!) {
  createProject(name: $name, domain: $domain, timezone: $timezone) { id }
}`;
const CREATE_KEY = `mutation CreateKey($project: ID!, $name: String!, $scopes: [String!]!) {
  createApiKey(projectId: $project, name: $name, scopes: $scopes) { key apiKey { id name scopes } }
}`;
const REVOKE_KEY = 'mutation RevokeKey($project: ID!, $key: ID!) { revokeApiKey(projectId: $project, keyId: $key) }';
const ENABLE = 'mutation Enable($project: ID!, $name: String!) { enableModule(projectId: $project, name: $name) { enabled } }';
const DISABLE = 'mutation Disable($project: ID!, $name: String!) { disableModule(projectId: $project, name: $name) { enabled } }';

// Ingest keys made in this page, by project: a key's value is shown only when it is created, so
// the snippet can carry it only then (kept in memory, never in storage).
const madeKeys = new Map();

const when = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' });
const stamp = (iso) => (iso ? when.format(new Date(iso)) : '—');
const browserZone = () => { try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch { return 'UTC'; } };

export default { id: 'admin', label: 'Admin', admin: true, order: 1000, mount };

function alertBox() { return h('p', { class: 'alert', role: 'alert', hidden: true }); }
function say(box, message) { box.textContent = message || ''; box.hidden = !message; }

async function copy(button, text, field) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    field?.select();
    button.textContent = 'Press Ctrl+C to copy';
  }
  setTimeout(() => { button.textContent = button.dataset.label; }, 2500);
}

function copyButton(label, text, field) {
  const button = h('button', { type: 'button', dataset: { label } }, label);
  button.addEventListener('click', () => copy(button, typeof text === 'function' ? text() : text, field));
  return button;
}

function mount(root, first) {
  let ctx = first;
  let poll = null; // the first-pageview timer
  let alive = true;
  const { boot } = ctx;
  const current = boot.project;

  // -- projects ---------------------------------------------------------------------------------
  const projectError = alertBox();
  const name = h('input', { id: 'project-name', name: 'name', required: true, autocomplete: 'off', maxlength: 200 });
  const domain = h('input', { id: 'project-domain', name: 'domain', required: true, autocomplete: 'off',
    placeholder: 'example.com', spellcheck: 'false', maxlength: 253 });
  const zone = h('input', { id: 'project-timezone', name: 'timezone', required: true, value: browserZone(),
    autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'project-timezone-help' });
  const createButton = h('button', { type: 'submit', class: 'primary' }, 'Create project');
  const form = h('form', { id: 'new-project', class: 'admin-form', 'aria-labelledby': 'new-project-title',
    onsubmit: async (e) => {
      e.preventDefault();
      say(projectError, '');
      createButton.disabled = true;
      try {
        const made = await ctx.gql(CREATE_PROJECT, { name: name.value.trim(), domain: domain.value.trim(),
          timezone: zone.value.trim() || 'UTC' });
        // The new project's shell (the switcher lists it; its modules and time zone come with it).
        location.assign(ctx.href({ ...ctx.state, tab: 'admin', filters: [] }, made.createProject.id));
      } catch (err) {
        say(projectError, `The project could not be created: ${err.message}`);
        createButton.disabled = false;
      }
    } },
  h('h3', { id: 'new-project-title' }, 'New project'),
  h('div', { class: 'fields' },
    h('div', { class: 'field' }, h('label', { for: 'project-name' }, 'Name'), name),
    h('div', { class: 'field' }, h('label', { for: 'project-domain' }, 'Domain'), domain),
    h('div', { class: 'field' }, h('label', { for: 'project-timezone' }, 'Time zone'), zone),
    createButton),
  h('p', { id: 'project-timezone-help', class: 'muted hint' },
    'An IANA zone such as Europe/Paris: the reports count days in it.'),
  projectError);

  const projects = boot.projects.length ? h('table', { class: 'admin-table', dataset: { table: 'projects' } },
    h('caption', { class: 'sr-only' }, 'Projects'),
    h('thead', {}, h('tr', {}, ...['Name', 'Domain', ''].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, boot.projects.map((p) => h('tr', { dataset: { id: p.id },
      'aria-current': p.id === current?.id ? 'true' : null },
    h('th', { scope: 'row' }, p.name), h('td', {}, p.domain),
    h('td', { class: 'actions' },
      p.id === current?.id ? h('span', { class: 'muted' }, 'Shown below')
        : h('a', { href: ctx.href({ ...ctx.state, tab: 'admin', filters: [] }, p.id) }, 'Manage', h('span', { class: 'sr-only' }, ` ${p.name}`)),
      h('a', { href: ctx.href({ ...ctx.state, tab: 'overview', filters: [] }, p.id) }, 'Overview', h('span', { class: 'sr-only' }, ` of ${p.name}`)))))))
    : h('p', { class: 'muted empty' }, 'No projects yet: create the first one below.');

  const detail = h('div', { id: 'admin-project-box' });
  clear(root,
    h('section', { id: 'admin-projects', class: 'panel admin', 'aria-labelledby': 'projects-title' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'projects-title' }, 'Projects')), projects, form),
    detail);

  if (!current) return { update(next) { ctx = next; }, destroy() { alive = false; } };

  // -- the current project ------------------------------------------------------------------------
  const loadError = alertBox();

  async function load() {
    try {
      const { project } = await ctx.gql(PROJECT, { id: current.id });
      if (alive) draw(project);
    } catch (err) {
      if (!alive) return;
      clear(detail, h('section', { class: 'panel error', role: 'alert' },
        h('p', {}, h('strong', {}, 'The project could not be loaded. '), err.message),
        h('button', { type: 'button', onclick: load }, 'Retry')));
    }
  }

  function draw(project) {
    clear(detail, h('section', { id: 'admin-project', class: 'panel admin', 'aria-labelledby': 'project-title' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'project-title' }, project.name),
        h('a', { class: 'button-link', href: ctx.href({ ...ctx.state, tab: 'overview', filters: [] }, project.id) },
          'Open the overview')),
      h('p', { class: 'muted' }, `${project.domain} · days in ${project.timezone} · created ${stamp(project.createdAt)}`),
      loadError,
      snippetSection(project), keysSection(project), modulesSection(project)));
  }

  // -- the snippet, and the first pageview ---------------------------------------------------------
  function snippetSection(project) {
    const { origin } = boot;
    const key = madeKeys.get(project.id);
    const text = `<script defer\n  src="${origin}/api/script.js"\n  data-api="${origin}"\n  data-key="${key || 'pa_live_YOUR_INGEST_KEY'}"></script>`;
    const ingestKeys = project.keys.filter((k) => k.scopes.includes('ingest'));
    const status = h('p', { id: 'first-pageview', class: 'first-pageview', role: 'status', dataset: { state: 'checking' } },
      h('span', { class: 'dot', 'aria-hidden': 'true' }), 'Checking for pageviews…');
    const makeKey = h('button', { type: 'button', onclick: async () => {
      makeKey.disabled = true;
      try {
        await createKey(project, 'website', ['ingest']);
      } catch (err) {
        say(loadError, `The key could not be created: ${err.message}`);
        makeKey.disabled = false;
      }
    } }, 'Create an ingest key for it');
    const note = key
      ? h('p', { class: 'muted' }, 'The snippet carries the ingest key you just created. An ingest key is public: ',
        'it can only send data.')
      : h('p', { class: 'muted' }, 'A key is shown only once, when it is created, so the snippet has a placeholder. ',
        ingestKeys.length ? `This project has ${ingestKeys.length} ingest ${ingestKeys.length === 1 ? 'key' : 'keys'}: `
          + 'put the one you saved in its place, or create a new one here.' : 'Create an ingest key to fill it in.');
    startWatching(project, status);
    return h('section', { id: 'snippet', class: 'admin-part', 'aria-labelledby': 'snippet-title' },
      h('h3', { id: 'snippet-title' }, 'Tracking snippet'),
      h('p', {}, `Add this tag before </body> on every page of ${project.domain}:`),
      h('pre', {}, h('code', {}, text)),
      h('div', { class: 'row' }, copyButton('Copy snippet', text), key ? null : makeKey),
      note, status);
  }

  function startWatching(project, status) {
    clearTimeout(poll);
    const span = () => ({ startAt: addDays(today(project.timezone, new Date(project.createdAt)), -1),
      endAt: today(project.timezone) });
    let seen = null; // the count when first checked
    const show = (state, text) => {
      status.dataset.state = state;
      clear(status, h('span', { class: 'dot', 'aria-hidden': 'true' }), text);
    };
    const check = async () => {
      if (!alive || !status.isConnected) return;
      if (document.hidden) { poll = setTimeout(check, POLL_EVERY); return; }
      try {
        const { project: p } = await ctx.gql(PAGEVIEWS, { id: project.id, ...span() });
        const n = p.stats.current.pageviews;
        if (!alive || !status.isConnected) return;
        if (n > 0) {
          show('received', seen === 0 ? 'The first pageview has arrived. Pulse is receiving data.'
            : `Pulse is receiving data: ${n.toLocaleString('en-US')} ${n === 1 ? 'pageview' : 'pageviews'} so far.`);
          return; // seen: stop polling
        }
        if (seen === null) { seen = 0; show('waiting', 'Waiting for the first pageview… (this checks every few seconds)'); }
      } catch (err) {
        show('waiting', `Waiting for the first pageview… (the last check failed: ${err.message})`);
      }
      poll = setTimeout(check, POLL_EVERY);
    };
    poll = setTimeout(check, 0); // once `status` is in the page

  }

  // -- keys -------------------------------------------------------------------------------------------
  let fresh = null; // { name, key }: the key just created, shown once

  async function createKey(project, keyName, scopes) {
    const made = (await ctx.gql(CREATE_KEY, { project: project.id, name: keyName, scopes })).createApiKey;
    fresh = { name: made.apiKey.name, key: made.key };
    if (scopes.includes('ingest')) madeKeys.set(project.id, made.key);
    await load();
    document.querySelector('.new-key input')?.focus();
  }

  function keysSection(project) {
    const error = alertBox();
    const keyName = h('input', { id: 'key-name', required: true, autocomplete: 'off', maxlength: 200, placeholder: 'website' });
    const boxes = SCOPES.map(([scope, label]) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', id: `key-scope-${scope}`, value: scope, checked: scope === 'ingest' }), label));
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Create key');
    const form = h('form', { id: 'new-key', class: 'admin-form', 'aria-labelledby': 'new-key-title', onsubmit: async (e) => {
      e.preventDefault();
      const scopes = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
      if (!scopes.length) { say(error, 'Choose at least one scope.'); return; }
      say(error, '');
      submit.disabled = true;
      try {
        await createKey(project, keyName.value.trim(), scopes);
      } catch (err) {
        say(error, `The key could not be created: ${err.message}`);
        submit.disabled = false;
      }
    } },
    h('h3', { id: 'new-key-title', class: 'sub' }, 'New key'),
    h('div', { class: 'fields' }, h('div', { class: 'field' }, h('label', { for: 'key-name' }, 'Name'), keyName),
      h('fieldset', { class: 'field' }, h('legend', {}, 'Scopes'), ...boxes), submit),
    error);

    let shown = null;
    if (fresh) {
      const field = h('input', { readonly: true, value: fresh.key, id: 'new-key-value', spellcheck: 'false',
        'aria-describedby': 'new-key-note', onfocus: (e) => e.target.select() });
      shown = h('div', { class: 'new-key', role: 'status' },
        h('p', { id: 'new-key-note' }, h('strong', {}, `Key "${fresh.name}" created. `),
          'Copy it now: it is shown only this once.'),
        h('div', { class: 'row' }, h('label', { class: 'sr-only', for: 'new-key-value' }, 'The new key'), field,
          copyButton('Copy key', fresh.key, field)));
      fresh = null; // gone at the next redraw
    }

    const table = project.keys.length ? h('table', { class: 'admin-table' },
      h('caption', { class: 'sr-only' }, 'Active API keys'),
      h('thead', {}, h('tr', {}, ...['Name', 'Key', 'Scopes', 'Last used', 'Created', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, project.keys.map((k) => h('tr', { dataset: { id: k.id } },
        h('th', { scope: 'row' }, k.name), h('td', {}, h('code', {}, k.keyPrefix)),
        h('td', {}, k.scopes.join(', ')), h('td', {}, stamp(k.lastUsedAt)), h('td', {}, stamp(k.createdAt)),
        h('td', { class: 'actions' }, h('button', { type: 'button', class: 'danger', onclick: async (e) => {
          // eslint-disable-next-line no-alert
          if (!window.confirm(`Revoke the key "${k.name}"? Whatever uses it stops working at once.`)) return;
          e.target.disabled = true;
          try {
            await ctx.gql(REVOKE_KEY, { project: project.id, key: k.id });
            await load();
            document.getElementById('key-name')?.focus();
          } catch (err) {
            say(error, `The key could not be revoked: ${err.message}`);
            e.target.disabled = false;
          }
        } }, 'Revoke', h('span', { class: 'sr-only' }, ` ${k.name}`)))))))
      : h('p', { class: 'muted empty' }, 'No active keys.');
    return h('section', { id: 'keys', class: 'admin-part', 'aria-labelledby': 'keys-title' },
      h('h3', { id: 'keys-title' }, 'API keys'), shown, table, form);
  }

  // -- modules ---------------------------------------------------------------------------------------
  function modulesSection(project) {
    const error = alertBox();
    const groups = new Map();
    for (const m of project.modules) {
      if (!groups.has(m.category)) groups.set(m.category, []);
      groups.get(m.category).push(m);
    }
    const toggle = (m) => {
      const box = h('input', { type: 'checkbox', role: 'switch', id: `module-${m.name}`, checked: m.enabled,
        disabled: m.name === 'core', 'aria-describedby': `module-${m.name}-about` });
      box.addEventListener('change', async () => {
        const wanted = box.checked;
        box.disabled = true;
        say(error, '');
        try {
          const result = await ctx.gql(wanted ? ENABLE : DISABLE, { project: project.id, name: m.name });
          box.checked = (result.enableModule || result.disableModule).enabled;
        } catch (err) {
          box.checked = !wanted;
          say(error, `Module ${m.name} could not be turned ${wanted ? 'on' : 'off'}: ${err.message}`);
        }
        box.disabled = false;
        box.focus();
      });
      return h('li', { class: 'module' }, box,
        h('label', { for: `module-${m.name}` }, m.name),
        h('span', { id: `module-${m.name}-about`, class: 'muted' }, m.name === 'core' ? `${m.description} (always on)` : m.description));
    };
    return h('section', { id: 'modules', class: 'admin-part', 'aria-labelledby': 'modules-title' },
      h('h3', { id: 'modules-title' }, 'Modules'),
      h('p', { class: 'muted' }, 'Turning a module off keeps its data. The overview shows what is on when it next loads.'),
      error,
      h('div', { class: 'module-groups' }, [...groups].map(([category, list]) => h('fieldset', { class: 'module-group' },
        h('legend', {}, category), h('ul', {}, list.map(toggle))))));
  }

  load();
  return {
    update(next) { ctx = next; },
    destroy() { alive = false; clearTimeout(poll); },
  };
}
