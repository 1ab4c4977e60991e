// The dashboard's views, one per tab. A view is a self-contained module:
//   { id, label, module, mount(root, ctx) -> { update(ctx), destroy() } }
// `module` is the Pulse module whose data it shows; the tab appears only when the server says the
// session's key may read that module (enabled for the project, inside the key's allowed_modules,
// readable). A module adds its view by writing views/<name>.js and listing it here; `ctx` gives
// it the shared state (range, filters), `gql` for its one request, and `navigate` to change state.
import overview from './views/overview.js';

export const VIEWS = [overview];

export const visible = (modules) => VIEWS.filter((view) => modules.includes(view.module));
