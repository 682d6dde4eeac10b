"""The lab's sessions: one per browser tab and page (a playground, a knowledge-tracing student, an AppleWorld agent),
kept by a random id, bounded in number and in idle time so that no client can fill the server's memory."""
import re
import secrets
import threading
import time
from collections import OrderedDict

from .schema import LabError

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,32}$")     # what new_id() makes; anything else is no session of ours


def new_id():
    """A fresh session id: 16 URL-safe characters (96 random bits)."""
    return secrets.token_urlsafe(12)


class SessionStore:
    """Sessions by id: at most ``limit`` (the least recently used goes first), each dropped after ``idle`` seconds
    without a request. ``what`` names them in the 404 message ("no such playground session ...")."""

    def __init__(self, limit, idle, what):
        self.limit, self.idle, self.what = int(limit), float(idle), what
        self._items, self._lock = OrderedDict(), threading.Lock()     # id -> [session, last use]

    def add(self, sid, session):
        """Keep ``session`` under ``sid`` (making room if needed) and return it."""
        with self._lock:
            self._expire()
            while len(self._items) >= self.limit:
                self._items.popitem(last=False)
            self._items[sid] = [session, time.monotonic()]
        return session

    def get(self, sid):
        """The session ``sid`` (now the most recently used), or LabError 404 when there is none."""
        with self._lock:
            self._expire()
            item = self._items.get(sid) if isinstance(sid, str) and SESSION_ID.match(sid) else None
            if item is None:
                raise LabError(404, f"no such {self.what} session (it expired or the server restarted); "
                                    "reload the page")
            self._items.move_to_end(sid)
            item[1] = time.monotonic()
            return item[0]

    def _expire(self):
        now = time.monotonic()
        for sid in [k for k, (_, used) in self._items.items() if now - used > self.idle]:
            del self._items[sid]

    def __len__(self):
        return len(self._items)
