import type { Tracker } from "../tracker/core";

/** Site search: the query parameter (`q` unless configured) of each page viewed. */
export function install(t: Tracker): void {
  let last = "";
  const check = () => {
    const query = (new URLSearchParams(location.search).get(t.o.searchParam || "q") || "").trim().slice(0, 500);
    if (query && query != last) t.send("search_query", { query });
    last = query;
  };
  t.on("page", check);
  check();
}
