"""Outbound links' payload type: outlink.

  outlink          OutlinkData. Here `url` is the link's target (http or https, required) and
                   `domain` its host; the page the link sat on is `page_url` (-> Item.url)
                   and/or `path`. `link_type` external (default; "outbound" means external)
                   or download.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from pulse.ingest.fields import must, req_str, split_url
from pulse.ingest.sinks import Copy
from pulse.modules.module import Payload


class OutlinkData(msgspec.Struct, tag="outlink", tag_field="kind", gc=False):
    url: str
    domain: str
    link_type: str


_LINK_TYPES: Final = {"external": "external", "outbound": "external", "download": "download"}


def parse_outlink(d: dict[str, Any]) -> OutlinkData:
    url = req_str(d, "url", 2048)
    host, _ = split_url(url, "url")
    if not host or not url[:8].lower().startswith(("http://", "https://")):
        raise must("url", "an absolute http or https URL")
    lt = d.get("link_type")
    if lt is None or lt == "":
        lt = "external"
    elif type(lt) is not str or (lt := _LINK_TYPES.get(lt.lower())) is None:
        raise must("link_type", "one of external, download")
    return OutlinkData(url, host, lt)


OUTLINKS = Copy("outlinks", ("url", "link_type"), lambda r, _: (r.data.url, r.data.link_type))

# `url` is the link's target: the page's URL is `page_url`.
PAYLOADS = (Payload("outlink", parse_outlink, OutlinkData, sink=OUTLINKS, page_url="page_url"),)
