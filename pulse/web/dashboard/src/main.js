// Boot: read what the server put in the page, then render the tab the URL names.
import { gql, useProject } from './api.js';
import { h, clear } from './dom.js';
import * as url from './state.js';
import { visible } from './tabs.js';

const boot = JSON.parse(document.getElementById('pulse-boot').textContent);
// An admin session reads every project: its requests name the one shown (the URL's ?project=).
if (boot.admin && boot.project) useProject(boot.project.id);
const views = visible(boot.modules, boot.admin);
const root = document.getElementById('main');
const nav = document.getElementById('tabs');
let mounted = null; // { view, instance }
let state = url.read();

// A view's address: its state (state.js), plus the project for an admin session, whose URL says
// which project it shows so that a link or a reload lands on the same one.
function href(next, project = boot.admin ? boot.project?.id : null) {
  const query = url.write(next);
  if (!project) return query;
  const p = new URLSearchParams(query.startsWith('?') ? query.slice(1) : '');
  p.set('project', project);
  return `${location.pathname}?${p}`;
}

function navigate(patch, { replace = false } = {}) {
  state = { ...state, ...patch };
  history[replace ? 'replaceState' : 'pushState'](null, '', href(state));
  render();
}

function renderTabs(current) {
  // A single view needs no tab bar; with modules' views it is a list of links (keyboard: Tab/Enter).
  clear(nav, ...(views.length < 2 ? [] : views.map((view) => h('a', {
    href: href({ ...state, tab: view.id }),
    'aria-current': view.id === current.id ? 'page' : null,
    onclick: (e) => { e.preventDefault(); navigate({ tab: view.id }); },
  }, view.label))));
}

// The project switcher, for a session that reads several projects (an admin session). A project
// brings its own modules and time zone, so switching loads the shell the server draws for it,
// keeping the view, range and metric (filters name one site's pages, so they are dropped).
function renderSwitcher() {
  const site = document.getElementById('site');
  if (!boot.admin || !site) return;
  if (!boot.projects.length) { site.textContent = 'No projects yet'; return; }
  const select = h('select', { id: 'project-switch', class: 'switcher' }, boot.projects.map((p) => h('option', {
    value: p.id, selected: p.id === boot.project?.id,
  }, `${p.name} · ${p.domain}`)));
  const go = () => {
    if (select.value !== boot.project?.id) location.assign(href({ ...state, filters: [] }, select.value));
  };
  // Arrow keys change a closed <select> at once: from the keyboard, switch on Enter or on leaving it.
  let keyed = false;
  select.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); keyed = false; go(); } else if (e.key !== 'Tab') keyed = true;
  });
  select.addEventListener('change', () => { if (!keyed) go(); });
  select.addEventListener('blur', () => { if (keyed) { keyed = false; go(); } });
  site.replaceWith(h('label', { class: 'switch' }, h('span', { class: 'sr-only' }, 'Project'), select));
}

function render() {
  const view = views.find((v) => v.id === state.tab) || views[0];
  renderTabs(view);
  const ctx = { boot, state, gql, navigate, href };
  if (mounted?.view === view) return mounted.instance.update(ctx);
  mounted?.instance.destroy();
  mounted = { view, instance: view.mount(root, ctx) };
}

window.addEventListener('popstate', () => { state = url.read(); render(); });
// The URL names the project (a link or reload lands on it); a view's own parameters stay (People's
// `visitor`, a deep link to one profile).
if (boot.admin && boot.project) {
  const params = new URLSearchParams(location.search);
  if (params.get('project') !== boot.project.id) {
    params.set('project', boot.project.id);
    history.replaceState(null, '', `${location.pathname}?${params}`);
  }
}
renderSwitcher();
render();
