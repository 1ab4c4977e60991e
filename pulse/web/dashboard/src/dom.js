// A tiny element builder: h('a', {href, onclick}, 'text', child). No innerHTML anywhere, so
// names that come from tracked sites (paths, referrers, event names) can never become markup.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? '' : value);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

// Absent children (null, undefined, false: a part a view leaves out) are skipped, as h() skips them;
// replaceChildren would write them out as text.
export const clear = (el, ...children) => el.replaceChildren(...children.filter((c) => c != null && c !== false));
