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


class WeighedLRU:
    """A least-recently-used cache bounded by the summed weight of its values (bytes, say)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.weight = 0
        self._items: OrderedDict = OrderedDict()  # key -> (value, weight)

    def get(self, key: object) -> object | None:
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: object, value: object, weight: int) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self.weight -= old[1]
        if weight > self.limit:
            return
        self._items[key] = (value, weight)
        self.weight += weight
        while self.weight > self.limit:
            _, (_, dropped) = self._items.popitem(last=False)
            self.weight -= dropped
