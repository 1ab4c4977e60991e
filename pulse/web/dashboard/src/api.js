// GraphQL over POST with a JSON body: the session cookie goes along (same origin), and only a
// JSON POST is accepted with it, which is what keeps other sites from using it (see session.py).

// An admin session reads every project: the dashboard names the one it shows in a header (a key
// session's project is its key's, and the server ignores the header there).
let project = null;
export function useProject(id) { project = id; }

export class ApiError extends Error {
  constructor(message, code) { super(message); this.code = code; }
}

export async function gql(query, variables = {}, { signal } = {}) {
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json',
        ...(project ? { 'X-Pulse-Project': project } : {}) },
      body: JSON.stringify({ query, variables }),
      credentials: 'same-origin',
      signal,
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError('Pulse cannot be reached. Check your connection and retry.', 'NETWORK');
  }
  const body = await response.json().catch(() => null);
  const first = body?.errors?.[0];
  if (first || !response.ok || !body?.data) {
    const code = first?.extensions?.code || String(response.status);
    // The session ended (logout elsewhere, expiry, revoked key): the login page says why.
    if (code === 'UNAUTHENTICATED') location.assign(`/dashboard${location.search}`);
    throw new ApiError(first?.message || body?.error || `The request failed (HTTP ${response.status}).`, code);
  }
  return body.data;
}
