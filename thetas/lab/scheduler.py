"""Whose turn is it? The lab's computations, one at a time, earliest deadline first.

A class on one laptop's lab sends two kinds of request. A *frame* is what a page repeats while it animates (the
Playground's "train a little more and show me", AppleWorld's next steps): each one waits for the one before, so a
frame that comes a little later only slows the animation a little. A *click* is a student waiting for an answer
(a digit's guess, a knowledge-tracing answer, a new session). Every request gets a deadline when it arrives,

    deadline = arrival + budget · (requests of the same client not yet answered)      budget: CLICK or FRAME

and the computation whose deadline is earliest goes next. A click overtakes the frames that arrived less than
FRAME − CLICK seconds before it, and no more: nothing waits forever. A client that sends many requests at once
(a script, a page left open in ten tabs) gets deadlines further and further out, so it waits behind everyone
else's single request instead of in front of them.

Why one at a time, in the event loop's own thread: the lab's work is many small NumPy operations (a 2-8-8-1
network, a 28×28 drawing, one LSTM step), and CPython runs Python in one thread at a time. Measured with 30
simulated students on 2 cores (benchmarks/bench_lab_load.py): requests in worker threads at once made a
knowledge-tracing answer's p95 2.6 s (each of its small operations waiting for the interpreter lock again), and
two workers were slower for every kind; one worker thread behind a lock served 141 requests/s, the same work in
the loop's thread 178/s, with a prediction's p95 at 30 ms instead of 86. What keeps every wait short is what runs
first and that no request runs long: the Playground caps a step request at ``playground.STEP_SECONDS``. The
trainings run in child processes, beside all this.
"""
import asyncio
import heapq
import itertools
import time
from collections import Counter

CLICK = 0.05            # seconds: the budget of a request a student waits for
FRAME = 0.25            # seconds: the budget of an animation's next frame


class Gone(Exception):
    """The request's client hung up before its turn: nothing was computed for it."""


class Scheduler:
    """``await scheduler.run(client, frame, fn)``: ``fn()`` when it is this request's turn (see the module's
    docstring): its result, or its exception. The computations run one at a time, in this event loop's thread;
    between two of them the loop runs ``YIELDS`` times, so that the requests that arrived meanwhile join the queue
    before the next one is chosen. A request that goes away while it waits is skipped: its task cancelled, or
    ``gone`` (an async callable: has its client hung up?) true when its turn comes (it then raises ``Gone``).
    ``waiting``: how many wait now. ``clock``: seconds (the tests give their own)."""

    YIELDS = 2

    def __init__(self, click=CLICK, frame=FRAME, clock=time.monotonic):
        self.click, self.frame, self.clock = float(click), float(frame), clock
        self._heap, self._order, self._open, self._task = [], itertools.count(), Counter(), None

    @property
    def waiting(self):
        return sum(not item[-1].done() for item in self._heap)

    async def run(self, client, frame, fn, gone=None):
        self._open[client] += 1
        try:
            deadline = self.clock() + (self.frame if frame else self.click) * self._open[client]
            fut = asyncio.get_running_loop().create_future()
            heapq.heappush(self._heap, (deadline, next(self._order), fn, gone, fut))
            if self._task is None:
                self._task = asyncio.get_running_loop().create_task(self._dispatch())
            return await fut
        finally:
            self._open[client] -= 1
            if not self._open[client]:
                del self._open[client]

    async def _dispatch(self):
        try:
            while self._heap:
                for _ in range(self.YIELDS):
                    await asyncio.sleep(0)
                _, _, fn, gone, fut = heapq.heappop(self._heap)
                if not fut.done() and gone is not None and await gone():
                    fut.set_exception(Gone())                        # its client hung up while it waited
                if fut.done():                                       # nobody waits for it any more
                    continue
                try:
                    result = fn()
                except Exception as e:                              # the request's error: its endpoint answers it
                    fut.set_exception(e)
                else:
                    fut.set_result(result)
        finally:
            self._task = None
