import type { Tracker } from "../tracker/core";

const DOWNLOAD = /\.(pdf|zip|gz|tgz|rar|7z|dmg|exe|msi|pkg|deb|rpm|apk|iso|csv|xlsx?|docx?|pptx?|odt|ods|epub|mp3|mp4|mov|avi|wav)$/i;

/** Clicks (left or middle) on links to other sites, and on file downloads. */
export function install(t: Tracker): void {
  const track = (e: MouseEvent) => {
    const a = (e.target as Element | null)?.closest?.("a[href]") as HTMLAnchorElement | null;
    if (!a || !/^https?:$/.test(a.protocol)) return;
    const download = a.hasAttribute("download") || DOWNLOAD.test(a.pathname);
    if (a.host == location.host && !download) return;
    t.send("outlink", { url: a.href, domain: a.hostname, link_type: download ? "download" : "external", page_url: t.p.url });
  };
  document.addEventListener("click", track, true);
  document.addEventListener("auxclick", track, true);
}
