// Boot: read what the server put in the page, then render the tab the URL names.
import { gql } from './api.js';
import { h, clear } from './dom.js';
import * as url from './state.js';
import { visible } from './tabs.js';

const boot = JSON.parse(document.getElementById('pulse-boot').textContent);
const views = visible(boot.modules);
const root = document.getElementById('main');
const nav = document.getElementById('tabs');
let mounted = null; // { view, instance }
let state = url.read();

function navigate(patch, { replace = false } = {}) {
  state = { ...state, ...patch };
  history[replace ? 'replaceState' : 'pushState'](null, '', url.write(state));
  render();
}

function renderTabs(current) {
  // A single view needs no tab bar; with modules' views it is a list of links (keyboard: Tab/Enter).
  clear(nav, ...(views.length < 2 ? [] : views.map((view) => h('a', {
    href: url.write({ ...state, tab: view.id }),
    'aria-current': view.id === current.id ? 'page' : null,
    onclick: (e) => { e.preventDefault(); navigate({ tab: view.id }); },
  }, view.label))));
}

function render() {
  const view = views.find((v) => v.id === state.tab) || views[0];
  renderTabs(view);
  const ctx = { boot, state, gql, navigate };
  if (mounted?.view === view) return mounted.instance.update(ctx);
  mounted?.instance.destroy();
  mounted = { view, instance: view.mount(root, ctx) };
}

window.addEventListener('popstate', () => { state = url.read(); render(); });
render();
