// The dashboard's views, one per tab: every file in views/ (build.mjs lists them as 'pulse:views').
// A view is a self-contained module:
//   { id, label, module, order?, mount(root, ctx) -> { update(ctx), destroy() } }
// `module` is the Pulse module whose data it shows; the tab appears only when the server says the
// session's key may read that module (enabled for the project, inside the key's allowed_modules,
// readable). Tabs are ordered by `order` (default 100), then label. `ctx` gives the view the
// shared state (range, filters), `gql` for its one request, and `navigate` to change state.
import views from 'pulse:views';

export const VIEWS = [...views].sort((a, b) => (a.order ?? 100) - (b.order ?? 100) || a.label.localeCompare(b.label));

export const visible = (modules, admin = false) => VIEWS.filter(
  (view) => (view.admin ? admin : modules.includes(view.module)));
