"""Contract: the emulator's fault switches - 429 (with and without Retry-After), 5xx bursts, latency, timeouts."""

from __future__ import annotations

import time

import pytest

from engine.errors import RetryLater

from .conftest import Emulator

pytestmark = pytest.mark.anyio


async def test_429_with_retry_after_is_honoured_then_the_call_succeeds(emulator: Emulator) -> None:
    await emulator.faults(error_rate_429=0.5, retry_after_on_429=True, seed=3)
    clock = emulator.fake_clock()
    client = await emulator.client(clock=clock, max_attempts=20)
    for _ in range(5):
        page = await client.offer_events(None)
        assert page.caught_up
    assert emulator.state.stats.sent_429 >= 1
    assert clock.sleeps.count(1.0) == emulator.state.stats.sent_429  # the emulator's Retry-After: 1
    assert 60.0 not in clock.sleeps


async def test_429_without_retry_after_waits_the_whole_minute_for_everybody(emulator: Emulator) -> None:
    await emulator.faults(client_rate_limit_per_minute=3)
    clock = emulator.fake_clock()
    client = await emulator.client(clock=clock)
    for _ in range(5):
        await client.order_journal_start()
    assert emulator.state.stats.sent_429 == 1  # blocked once, then nobody hammered the block
    assert clock.sleeps == [60.0]
    assert client.budget.blocked_until == pytest.approx(1060.0)


async def test_a_persistent_429_becomes_retry_later_with_the_wait(emulator: Emulator) -> None:
    await emulator.faults(error_rate_429=1.0)
    client = await emulator.client(max_attempts=3)
    with pytest.raises(RetryLater) as caught:
        await client.offer_events(None)
    assert caught.value.retry_after_seconds == 60.0
    assert "GET /sale/offer-events answered 429" in str(caught.value)
    assert emulator.state.stats.sent_429 == 3


async def test_5xx_bursts_are_retried_with_backoff(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer()
    await emulator.faults(error_rate_5xx=0.4, seed=11)
    clock = emulator.fake_clock()
    client = await emulator.client(clock=clock, max_attempts=10)
    snapshots = await client.offer_parts([offer_id] * 1 + [offer_id])
    assert [s.offer_id for s in snapshots] == [offer_id]
    for _ in range(5):
        await client.order_events(None)
    failures = sum(n for status, n in emulator.state.stats.by_status.items() if status >= 500)
    assert failures >= 1
    assert 0.5 in clock.sleeps  # first backoff step


async def test_a_dead_server_becomes_retry_later_naming_the_endpoint(emulator: Emulator) -> None:
    await emulator.faults(error_rate_5xx=1.0)
    clock = emulator.fake_clock()
    client = await emulator.client(clock=clock, max_attempts=4)
    with pytest.raises(RetryLater, match=r"GET /order/events answered 50\d"):
        await client.order_events(None)
    assert clock.sleeps == [0.5, 1.0, 2.0]


async def test_timeouts_are_retried_then_retry_later(emulator: Emulator) -> None:
    if emulator.mode == "in_process":
        pytest.skip("httpx.ASGITransport enforces no timeouts; covered over real HTTP")
    await emulator.faults(latency_ms=400)
    client = await emulator.client(read_timeout_seconds=0.1, max_attempts=2)
    started = time.monotonic()
    with pytest.raises(RetryLater, match="GET /sale/offer-events timed out 2 times"):
        await client.offer_events(None)
    assert time.monotonic() - started < 2.0


async def test_latency_is_tolerated_within_the_timeout_and_requests_overlap(emulator: Emulator) -> None:
    ids = [await emulator.seller_offer(external={"id": f"SKU-{n}"}) for n in range(8)]
    await emulator.faults(latency_ms=100)
    client = await emulator.client(max_concurrency=8)
    started = time.monotonic()
    snapshots = await client.offer_parts(ids)
    elapsed = time.monotonic() - started
    assert [s.offer_id for s in snapshots] == ids
    assert client.budget.peak_in_flight >= 4
    assert elapsed < 0.1 * 9 / 2  # 9 requests of 100 ms, not one after the other


async def test_offer_creation_budget_keeps_under_the_per_seller_limit(emulator: Emulator) -> None:
    from .conftest import offer_body

    await emulator.faults(offer_creation_limit_per_minute=2)
    clock = emulator.fake_clock()
    client = await emulator.client(clock=clock, offer_creations_per_minute=2)
    for n in range(4):
        await client.create_offer(offer_body(external={"id": f"SKU-{n}"}))
    assert emulator.state.stats.sent_429 == 0
    assert len(await emulator.offers()) == 4
    assert sum(clock.sleeps) >= 60  # 4 creations at under 2 a minute


async def test_a_5xx_on_creation_is_never_re_posted_in_the_same_call(emulator: Emulator) -> None:
    from .conftest import offer_body

    await emulator.faults(error_rate_5xx=1.0)
    clock = emulator.fake_clock()
    client = await emulator.client(clock=clock, max_attempts=10, uncertain_lookup_delay_seconds=3.0)
    with pytest.raises(RetryLater, match="not re-sent now"):
        await client.create_offer(offer_body(external={"id": "SKU-5XX"}))
    stats = emulator.state.stats
    assert stats.by_route["POST /sale/product-offers"] == 1
    assert stats.by_route["GET /sale/offers"] == 10  # the look-up (its own retries) came before giving up
    assert clock.sleeps[0] == 3.0
    assert await emulator.offers() == []


async def test_a_5xx_on_creation_with_nothing_listed_is_retried_later_not_re_posted(emulator: Emulator) -> None:
    from .conftest import offer_body

    await emulator.faults(error_rate_5xx=0.5, seed=2)
    client = await emulator.client(max_attempts=10)
    outcomes = []
    for n in range(6):
        try:
            await client.create_offer(offer_body(external={"id": f"SKU-{n}"}))
            outcomes.append("created")
        except RetryLater:
            outcomes.append("later")
    assert "later" in outcomes and "created" in outcomes
    posts = emulator.state.stats.by_route["POST /sale/product-offers"]
    assert posts == 6  # one POST per call, whatever happened
    assert len(await emulator.offers()) == outcomes.count("created")


async def test_refresh_survives_a_flaky_token_endpoint(emulator: Emulator) -> None:
    client = await emulator.client(max_attempts=10)
    await emulator.faults(expire_access_tokens=True, faults_on_oauth=True, error_rate_5xx=0.6, seed=4)
    page = await client.offer_events(None)
    assert page.caught_up
    assert client.tokens.refreshes == 1
    token_calls = emulator.state.stats.by_route["POST /auth/oauth/token"]
    assert token_calls >= 2  # a lost refresh answer is retried (the old refresh token has a 60 s grace)
