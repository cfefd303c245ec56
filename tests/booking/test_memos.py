"""The booking memos on an injected clock: bounded, and forgotten when their time is up."""

from datetime import date

from app.booking.memos import BookingMemos


def memos_on(clock: list[float], **kwargs) -> BookingMemos:
    return BookingMemos(timer=lambda: clock[0], **kwargs)


def test_a_slot_seen_full_is_refused_from_memory_only_for_its_seconds():
    clock = [100.0]
    memos = memos_on(clock)
    memos.mark_full(7, 2.0)
    assert memos.is_full(7) and not memos.is_full(8)
    clock[0] += 1.999
    assert memos.is_full(7)
    clock[0] += 0.001
    assert not memos.is_full(7)


def test_a_listing_lives_for_its_seconds_and_a_booking_drops_its_matters_listings():
    clock = [0.0]
    memos = memos_on(clock)
    memos.remember_listing((1, None, None, None), [{"id": 1}], 1.0)
    memos.remember_listing((2, None, None, None), [{"id": 2}], 1.0)
    assert memos.listing((1, None, None, None)) == [{"id": 1}]
    memos.drop_listings(1)
    assert memos.listing((1, None, None, None)) is None
    assert memos.listing((2, None, None, None)) == [{"id": 2}]
    clock[0] += 1.0
    assert memos.listing((2, None, None, None)) is None


def test_memos_are_bounded_and_reset_forgets_everything():
    clock = [0.0]
    memos = memos_on(clock, size=3)
    for citizen_id in range(10):
        memos.verified_citizens[citizen_id] = True
    assert len(memos.verified_citizens) == 3
    memos.mark_full(1, 5.0)
    memos.slot_facts[1] = {"id": 1}
    memos.mark_drawn(4, 0, date(2026, 11, 16))
    memos.reset()
    assert (len(memos.verified_citizens), len(memos.slot_facts), memos.is_full(1)) == (0, 0, False)
    assert memos.drawn(4, 0) == date.min


def test_a_slots_seat_counter_is_checked_against_the_database_at_most_once_a_second():
    clock = [0.0]
    memos = memos_on(clock)
    assert memos.claim_seat_resync(7) and memos.claim_seat_resync(8)
    clock[0] += 0.999
    assert not memos.claim_seat_resync(7)
    clock[0] = 1.0
    assert memos.claim_seat_resync(7)
    assert not memos.claim_seat_resync(7)
