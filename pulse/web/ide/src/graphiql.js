// GraphiQL at /graphql: the explorer, bundled with React so the page needs nothing from another origin.
// The page's boot data (the endpoint) is JSON in <script type="application/json" id="pulse-boot">,
// since the Content-Security-Policy allows no inline script.
import { GraphiQL } from 'graphiql';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';

const boot = JSON.parse(document.getElementById('pulse-boot').textContent);

const DEFAULT_QUERY = `# Pulse's GraphQL API.
#
# Signed in to the dashboard? Queries run as that session (its cookie goes with each request).
# Otherwise put a key in Headers below: {"X-Pulse-Key": "<a query key>"}
# (or an admin token: {"Authorization": "Bearer <token>"}).
#
# Ctrl-Enter runs the query; Ctrl-Space completes; the docs are in the book icon on the left.

{
  project {
    name
    domain
  }
}
`;

// One same-origin JSON POST per operation, with the headers typed into GraphiQL's editor.
async function fetcher(params, options = {}) {
  const response = await fetch(boot.endpoint, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', ...(options.headers || {}) },
    body: JSON.stringify(params),
  });
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 500)}` }] };
  }
}

createRoot(document.getElementById('graphiql')).render(
  createElement(GraphiQL, { fetcher, defaultQuery: DEFAULT_QUERY, isHeadersEditorEnabled: true, shouldPersistHeaders: false }),
);
