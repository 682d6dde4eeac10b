"""The lab's sessions: one per browser tab and page (a playground, a knowledge-tracing student, an AppleWorld agent),
kept by a random id, bounded in number and in idle time so that no client can fill the server's memory, and owned
by the client that made them, so that no client can push out another's (a class of 30 on one laptop's lab).

The client is what the request says it is (``client()``): the browser's own random id, which the pages send as
``X-Lab-Client``, else its address. The server sets it for the thread that runs each request (``as_client``)."""
import re
import secrets
import threading
import time
from collections import OrderedDict

from .schema import LabError

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,32}$")     # what new_id() makes; anything else is no session of ours
CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")     # an X-Lab-Client header, or an address
PER_CLIENT = 8                                         # sessions one client keeps per page (its 9th pushes out its 1st)
_current = threading.local()


def client():
    """The client of the request this thread is answering ("local" outside a request)."""
    return getattr(_current, "client", "local")


def client_of(header, address):
    """Who sent a request: its ``X-Lab-Client`` header if that is a well-formed id, else its address."""
    return header if isinstance(header, str) and CLIENT_ID.match(header) else str(address or "local")


class as_client:
    """``with as_client(header, address):`` the thread answers this client (``client_of``)."""

    def __init__(self, header, address=None):
        self.client = client_of(header, address)

    def __enter__(self):
        self.outer, _current.client = client(), self.client
        return self.client

    def __exit__(self, *exc):
        _current.client = self.outer
        return False


def new_id():
    """A fresh session id: 16 URL-safe characters (96 random bits)."""
    return secrets.token_urlsafe(12)


class SessionStore:
    """Sessions by id, each dropped after ``idle`` seconds without a request, and each owned by the client that made
    it. Room is made only at the expense of whoever takes most: a client's new session past ``per_client`` pushes
    out that client's least recently used one, and a full store (``limit``) the least recently used session of the
    client that holds the most. So one client opening a thousand sessions only ever replaces its own, and a class of
    ``limit / per_client`` clients never loses a session. ``what`` names them in the 404 message."""

    def __init__(self, limit, idle, what, per_client=PER_CLIENT):
        self.limit, self.idle, self.what, self.per_client = int(limit), float(idle), what, int(per_client)
        self._items, self._lock = OrderedDict(), threading.Lock()     # id -> [session, last use, owner]

    def add(self, sid, session):
        """Keep ``session`` under ``sid`` for the current client (making room as above) and return it."""
        owner = client()
        with self._lock:
            self._expire()
            mine = [k for k, item in self._items.items() if item[2] == owner]    # least recently used first
            if len(mine) >= self.per_client:
                del self._items[mine[0]]
            elif len(self._items) >= self.limit:
                counts = {}
                for item in self._items.values():
                    counts[item[2]] = counts.get(item[2], 0) + 1
                greediest = max(counts, key=counts.get)
                del self._items[next(k for k, item in self._items.items() if item[2] == greediest)]
            self._items[sid] = [session, time.monotonic(), owner]
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
        for sid in [k for k, (_, used, _) in self._items.items() if now - used > self.idle]:
            del self._items[sid]

    def __len__(self):
        return len(self._items)
