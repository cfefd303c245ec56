"""What one process remembers to spare the database: bounded, expiring memos behind one object.

Slot facts (times and ids, fixed when a slot is drawn), citizens known to be verified (a verified identity never
becomes unverified), slots seen full (refused from memory for booking.full_memo_seconds), short-lived listings,
how far each schedule's slots are drawn, and when a slot's seat counter was last checked against the database.
Every memo is a gate or a shortcut: the database stays the truth.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date

from cachetools import TTLCache

MEMO_SIZE = 50_000
SLOT_FACTS_SECONDS = 3600.0
VERIFIED_SECONDS = 86400.0
# A schedule's drawn horizon is rechecked at least this often, so a slot removed by hand comes back.
DRAWN_SECONDS = 3600.0
# A seat counter at 0 is checked against the database at most this often per slot and process: a counter a crash
# left low heals within this time, and a slot that really is full costs the database one read per interval.
SEAT_RESYNC_SECONDS = 1.0


class BookingMemos:
    """This process's booking memos; reset() forgets them all (tests that move the clock)."""

    def __init__(self, *, size: int = MEMO_SIZE, timer: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.timer = timer
        self.reset()

    def reset(self) -> None:
        """Forget everything this process remembers about booking."""
        self.slot_facts: TTLCache = TTLCache(self.size, SLOT_FACTS_SECONDS, timer=self.timer)
        self.verified_citizens: TTLCache = TTLCache(self.size, VERIFIED_SECONDS, timer=self.timer)
        # (schedule id, calendar generation) -> last day drawn: an admin calendar change draws again.
        self.drawn_until: TTLCache = TTLCache(self.size, DRAWN_SECONDS, timer=self.timer)
        self.seat_resyncs: TTLCache = TTLCache(self.size, SEAT_RESYNC_SECONDS, timer=self.timer)
        # The TTL of these two comes from settings; one cache per TTL in use (in practice one).
        self._full_slots: dict[float, TTLCache] = {}
        self._listings: dict[float, TTLCache] = {}
        # In-flight listing loads (shared_load): the waiters, not a memory, so never bounded by time.
        self.listing_loads: dict[tuple, asyncio.Future] = {}

    def _sized(self, caches: dict[float, TTLCache], seconds: float) -> TTLCache:
        cache = caches.get(seconds)
        if cache is None:
            cache = caches[seconds] = TTLCache(self.size, seconds, timer=self.timer)
        return cache

    def is_full(self, slot_id: int) -> bool:
        """Whether this process saw the slot full a moment ago."""
        return any(slot_id in cache for cache in self._full_slots.values())

    def mark_full(self, slot_id: int, seconds: float) -> None:
        self._sized(self._full_slots, seconds)[slot_id] = True

    def claim_seat_resync(self, slot_id: int) -> bool:
        """Whether this process may check the slot's seat counter against the database now (then not again soon)."""
        if slot_id in self.seat_resyncs:
            return False
        self.seat_resyncs[slot_id] = True
        return True

    def forget_slot(self, slot_id: int) -> None:
        """A slot changed (a seat came free, the slot was redrawn or closed)."""
        self.slot_facts.pop(slot_id, None)
        for cache in self._full_slots.values():
            cache.pop(slot_id, None)

    def listing(self, key: tuple) -> list[dict] | None:
        for cache in self._listings.values():
            if key in cache:
                return cache[key]
        return None

    def remember_listing(self, key: tuple, slots: list[dict], seconds: float) -> None:
        self._sized(self._listings, seconds)[key] = slots

    def drop_listings(self, matter_id: int) -> None:
        """A matter's seats or slots changed: its listings are read again."""
        for cache in self._listings.values():
            for key in [key for key in cache.keys() if key[0] == matter_id]:
                cache.pop(key, None)

    def drawn(self, schedule_id: int, generation: int) -> date:
        return self.drawn_until.get((schedule_id, generation), date.min)

    def mark_drawn(self, schedule_id: int, generation: int, last_day: date) -> None:
        self.drawn_until[(schedule_id, generation)] = last_day

    def forget_schedule(self, schedule_id: int) -> None:
        for key in [key for key in self.drawn_until.keys() if key[0] == schedule_id]:
            self.drawn_until.pop(key, None)


memos = BookingMemos()
