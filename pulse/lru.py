"""A bounded mapping that forgets the entry put longest ago once it holds more than its size."""

from __future__ import annotations

from collections import OrderedDict


class LRU(OrderedDict):
    """`put` stores (or refreshes) an entry and drops the oldest beyond `size`; `get` does not
    refresh one, so an entry lives until `size` newer puts have passed it."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: object, value: object) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
