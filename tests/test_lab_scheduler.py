"""The lab's scheduler: one computation at a time, earliest deadline first (a click before the next frame of an
animation, a client with many requests open behind the others), with a clock the test sets."""
import asyncio

import pytest

from thetas.lab.scheduler import CLICK, FRAME, Gone, Scheduler


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _serve(arrivals, clock=None):
    """Submit ``(client, frame, name, at)`` requests in this order (``at``: the clock when each arrives), all
    before the scheduler picks the first (it lets the event loop run 50 times first); return the order in which
    they ran."""
    clock = clock or Clock()
    ran = []

    async def main():
        s = Scheduler(clock=clock)
        s.YIELDS = 50
        tasks = []
        for client, frame, name, at in arrivals:
            clock.now = at
            tasks.append(asyncio.create_task(s.run(client, frame, lambda name=name: ran.append(name) or name)))
            await asyncio.sleep(0)                    # the request reaches the queue before the next one arrives
        assert await asyncio.gather(*tasks) == [a[2] for a in arrivals]     # each request gets its own result
        assert s.waiting == 0 and s._task is None
    asyncio.run(main())
    return ran


def test_a_click_overtakes_the_frames_that_arrived_shortly_before_it():
    ran = _serve([("a", True, "frame a", 100.0), ("b", True, "frame b", 100.01), ("c", False, "click c", 100.02)])
    assert ran == ["click c", "frame a", "frame b"]


def test_a_frame_that_waited_longer_than_the_slack_goes_first():
    slack = FRAME - CLICK
    ran = _serve([("a", True, "frame a", 100.0), ("c", False, "click c", 100.0 + slack + 0.01)])
    assert ran == ["frame a", "click c"]


def test_requests_of_one_kind_run_in_their_order_of_arrival():
    ran = _serve([(f"s{i}", i % 2 == 0, f"r{i}", 100.0) for i in range(6)])
    assert ran == ["r1", "r3", "r5", "r0", "r2", "r4"]              # clicks (odd) first, each kind in order


def test_a_client_with_many_requests_open_waits_behind_the_others():
    flood = [("greedy", False, f"g{i}", 100.0) for i in range(10)]
    ran = _serve(flood + [("student", False, "student", 100.0)])
    assert ran.index("student") <= 1                                # not behind the greedy client's ten


def test_an_error_reaches_its_request_only_and_the_queue_goes_on():
    ran = []

    async def main():
        s = Scheduler()

        def boom():
            ran.append("boom")
            raise ValueError("bad input")
        first = asyncio.create_task(s.run("a", False, boom))
        second = asyncio.create_task(s.run("b", False, lambda: ran.append("ok") or 7))
        with pytest.raises(ValueError, match="bad input"):
            await first
        assert await second == 7
    asyncio.run(main())
    assert ran == ["boom", "ok"]


def test_a_request_that_goes_away_while_it_waits_is_skipped():
    ran = []

    async def main():
        s = Scheduler()
        gone = asyncio.create_task(s.run("a", False, lambda: ran.append("gone")))
        stays = asyncio.create_task(s.run("b", False, lambda: ran.append("stays")))
        await asyncio.sleep(0)                        # both are queued; the dispatcher yields before it picks
        gone.cancel()
        await stays
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert s._open == {}                          # nothing left counted against the client
    asyncio.run(main())
    assert ran == ["stays"]


def test_a_request_whose_client_hung_up_is_not_computed():
    ran = []

    async def main():
        s = Scheduler()
        s.YIELDS = 5

        async def hung_up():
            return True

        async def still_there():
            return False
        gone = asyncio.create_task(s.run("a", False, lambda: ran.append("gone"), gone=hung_up))
        stays = asyncio.create_task(s.run("b", False, lambda: ran.append("stays") or 1, gone=still_there))
        with pytest.raises(Gone):
            await gone
        assert await stays == 1
    asyncio.run(main())
    assert ran == ["stays"]
