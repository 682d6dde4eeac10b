"""What a lab page declares, once: its address, its HTML file, its title, a line for the index, and its API routes.

    PAGE = Page("apple", "/apple-world", "apple.html", "AppleWorld", "Deep Q-learning: an agent ...", routes=(
        Route("GET", "/api/apple/status", AppleService.status, "the trained DQN: idle, training (progress), ..."),
        Route("POST", "/api/apple/{sid}/step", AppleService.step, '{"speed": 1-40, "learning"?: bool} -> ...'),
    ))

The server builds the rest from these declarations (``server.PAGES`` lists them in navigation order): the
Starlette routes, the navigation bar, the index's cards and each page's ``<title>`` (written into the HTML as it
is served, ``render``), and the API list (``GET /api``, ``api_list``).

A route's handler is called as ``handler(service, payload, **path_params)``: ``service`` is the page's own state
(what ``create_app`` made for the page's ``name``; None for a page without state), ``payload`` the request's JSON
object (a POST, at most ``limit`` bytes) or its query string as plain strings (a GET), and each ``{name}`` in the
path a keyword argument. It returns what goes out as JSON, or raises ``schema.LabError``.
"""
from dataclasses import dataclass
from html import escape
from typing import Callable

BODY_LIMIT = 64 * 1024          # bytes of JSON a POST may send, unless its route says otherwise
SITE = "thetas lab"
NAV_SLOT = '<header class="nav"></header>'          # where a page's HTML gets the navigation bar
CARDS_SLOT = '<div class="index-cards"></div>'      # where the index gets a card per page
TITLE_SLOT = f"<title>{SITE}</title>"


@dataclass(frozen=True)
class Route:
    """One API endpoint: ``method path``, answered by ``handler``; ``doc`` is its line in the API list. ``frame``:
    the page repeats it while it animates (a training step), so it may wait a little for requests a student is
    waiting on (``scheduler``). ``beside``: its handler touches no session, only its input (a whole training run
    of the four-pixel network, the optimisers' paths) or state under its service's own lock (an upload being
    read), so it runs in a worker thread beside the queue, one at a time, instead of holding every student's turn
    for up to a second or two."""
    method: str
    path: str
    handler: Callable
    doc: str
    limit: int = BODY_LIMIT
    frame: bool = False
    beside: bool = False

    def __post_init__(self):
        if self.method not in ("GET", "POST"):
            raise ValueError(f"{self.path}: a lab route is GET (its query string) or POST (JSON), not {self.method}")

    def describe(self):
        out = {"method": self.method, "path": self.path, "doc": self.doc}
        if self.method == "POST":
            out["limit"] = self.limit
        return out


@dataclass(frozen=True)
class Page:
    """A page: ``name`` (the key of its service), ``path`` (its address), ``html`` (its file in ``static/``),
    ``title`` (the navigation's label and the window's title), ``summary`` (its card on the index), ``routes``."""
    name: str
    path: str
    html: str
    title: str
    summary: str
    routes: tuple = ()

    def describe(self):
        return {"name": self.name, "path": self.path, "title": self.title, "summary": self.summary}


def api_list(pages):
    """What ``GET /api`` answers: every page and every route, in declaration order."""
    return {"pages": [p.describe() for p in pages],
            "routes": [{**r.describe(), "page": p.name} for p in pages for r in p.routes]}


def navigation(pages, current=None):
    """The navigation bar: the brand (to the index) and one link per page, the ``current`` path's marked active."""
    active = ' class="active"'
    links = "".join(f'<a href="{escape(p.path)}"{active if p.path == current else ""}>{escape(p.title)}</a>'
                    for p in pages)
    return f'<header class="nav"><a class="brand" href="/">θ {SITE}</a><nav>{links}</nav></header>'


def index_cards(pages):
    """The index's cards: one link per page with its title and summary."""
    return '<div class="index-cards">' + "".join(
        f'<a href="{escape(p.path)}"><div class="panel"><h2>{escape(p.title)}</h2>'
        f'<p class="muted">{escape(p.summary)}</p></div></a>' for p in pages) + "</div>"


def render(html, pages, title, current=None):
    """A page's HTML as served: its ``<title>``, the navigation bar and (on the index) the cards filled in."""
    return (html.replace(TITLE_SLOT, f"<title>{escape(title)} · {SITE}</title>", 1)
                .replace(NAV_SLOT, navigation(pages, current), 1)
                .replace(CARDS_SLOT, index_cards(pages), 1))
