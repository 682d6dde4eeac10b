"""The documentation site (``mkdocs.yml``, ``docs/``, ``docs/hooks.py``): it builds offline with ``--strict``, its API
reference has an entry for every public function and class, its tutorial a page for every notebook, and its
command-line page every command and option.

Public, as the test reads it: a function or class defined in thetas and bound to a name without a leading
underscore in ``thetas`` or in one of its public modules (a module with ``__all__``: just those names). The public
modules are found from ``thetas`` down: those a package's ``__init__.py`` imports by name (``from . import nn``)
or lists in its ``__all__`` (``th.nn``, ``th.nn.functional``, ``th.optim.schedules``, ``th.rl.envs``, ``th.tutor``,
...). An entry is a heading of the built reference whose id (``thetas.nn.Linear``) names the object; an object
reached by two names (``th.fit`` is ``th.train.fit``) needs one entry.
"""
import argparse
import ast
import importlib
import inspect
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import thetas

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_jupyter"):
        pytest.importorskip(module)          # the [test] and [docs] extras bring them
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stderr[-6000:]}"
    return out


def page(site, name):
    """A page of the built site, whether its URLs are directories (x/) or files (x.html)."""
    for path in (site / f"{name}.html", site / name / "index.html"):
        if path.exists():
            return path.read_text("utf-8")
    raise AssertionError(f"the site has no page {name}")


def public_modules(module):
    names = set(getattr(module, "__all__", None) or ())
    source = getattr(module, "__file__", None) or ""
    if source.endswith("__init__.py"):
        for node in ast.parse(Path(source).read_text("utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
                names |= {alias.asname or alias.name for alias in node.names}
    return [getattr(module, n) for n in sorted(names) if isinstance(getattr(module, n, None), types.ModuleType)]


def public_api():
    """{id(object): (object, [every public name of it])} for every public function and class (see above)."""
    found, todo, seen = {}, [thetas], set()
    while todo:
        module = todo.pop(0)
        if module.__name__ in seen:
            continue
        seen.add(module.__name__)
        names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
        for name in names:
            obj = getattr(module, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__.startswith("thetas"):
                found.setdefault(id(obj), (obj, []))[1].append(f"{module.__name__}.{name}")
        todo += public_modules(module)
    return found


def resolve(dotted):
    """The object a reference heading's id names: its longest importable module, then attributes (so that
    ``thetas.data.mnist.mnist`` is the function in the module, though ``thetas.data.mnist`` is that function)."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for part in parts[i:]:
            obj = getattr(obj, part, None)
        return obj
    return None


def test_the_public_api_is_found():
    api = public_api()
    names = {n for _, ns in api.values() for n in ns}
    assert len(api) > 200 and {"thetas.Tensor", "thetas.nn.Linear", "thetas.nn.functional.conv2d",
                               "thetas.knowledge.tutor.suggest_next", "thetas.rl.envs.AppleWorld"} <= names


def test_builds_strict_and_offline(site):
    """No page loads a script, a stylesheet, a font or a picture from another host (no Google fonts, no CDN; the
    search of a copy opened from disk runs with docs/javascripts/file-worker.js, not a shim from unpkg.com)."""
    remote = re.compile(r'<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)="(?:https?:)?//[^"]*"')
    fetching = {str(p.relative_to(site)): remote.findall(p.read_text("utf-8")) for p in site.rglob("*.html")}
    assert not {name: tags for name, tags in fetching.items() if tags}
    assert "fonts.googleapis.com" not in page(site, "index")
    assert (site / "search" / "search_index.js").exists()      # the offline plugin's index, for file://
    assert (site / "javascripts" / "file-worker.js").exists()


def test_every_public_function_and_class_has_a_reference_entry(site):
    ids = set()
    for html in (site / "reference").rglob("*.html"):
        ids |= set(re.findall(r'<h\d id="(thetas(?:\.\w+)+)"', html.read_text("utf-8")))
    documented = {id(obj) for obj in map(resolve, ids) if obj is not None}
    missing = sorted(min(names) for key, (_, names) in public_api().items() if key not in documented)
    assert not missing, (f"{len(missing)} public names have no entry in docs/reference/*.md (add a line "
                         f"'::: thetas.module.name' to the page it belongs to): {missing}")


def test_the_tutorial_has_a_page_per_notebook(site):
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    index = page(site, "notebooks/index")
    for nb in notebooks:
        html = page(site, f"notebooks/{nb.stem}")
        assert "jupyter-wrapper" in html, f"{nb.name} is not rendered as a notebook"
        assert (site / "notebooks" / nb.name).exists(), f"{nb.name} cannot be downloaded from the site"
        assert re.search(rf'href="(\./)?{re.escape(nb.stem)}(/|\.html)"', index), f"the tutorial does not list {nb.name}"
    shown = set(re.findall(r'href="(?:\./)?(\d\d_\w+)(?:/|\.html)"', index))
    assert shown == {nb.stem for nb in notebooks}


def test_the_command_line_page_has_every_command_and_option(site):
    from thetas.cli import build_parser
    html = page(site, "cli/reference")

    def walk(parser, name):
        for action in parser._actions:
            if action.choices and hasattr(action, "_name_parser_map"):
                for sub, subparser in action.choices.items():
                    assert f"<code>{name} {sub}</code>" in html, f"no section for '{name} {sub}'"
                    yield from walk(subparser, f"{name} {sub}")
            if not isinstance(action, argparse._HelpAction):
                yield from ((name, option) for option in action.option_strings)

    missing = [f"{name} {option}" for name, option in walk(build_parser(), "thetas")
               if f"<code>{option}</code>" not in html]
    assert not missing, missing


def test_the_notebooks_formulas_are_typeset_from_the_site_itself(site):
    """The notebooks' $θ$ and $$LL(θ)$$ are typeset by a copy of MathJax on the site (jupyter-server-mathjax's),
    which the page finds at the address it names, with the settings the site adds: nothing fetched elsewhere."""
    pytest.importorskip("jupyter_server_mathjax", reason="the docs extra installs jupyter-server-mathjax")
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        pytest.skip("no notebook yet")
    name = f"notebooks/{notebooks[0].stem}"
    html = page(site, name)
    src = re.search(r'<script src="([^"]*MathJax\.js)\?config=([^"]*)"', html)
    assert src, "the notebook page loads no MathJax"
    where = (site / name).parent if (site / f"{name}.html").exists() else site / name
    assert (where / src.group(1)).resolve().is_file(), src.group(1)
    for config in src.group(2).split(","):
        assert (where / src.group(1)).resolve().parent.joinpath("config", f"{config}.js").is_file(), config


def test_each_notebook_page_links_its_notebook_for_download(site):
    """The page says where to get the notebook it shows, by a relative address that resolves (so from disk too)."""
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        name = f"notebooks/{nb.stem}"
        html = page(site, name)
        link = re.search(r'<a href="([^"]+\.ipynb)" download>', html)
        assert link, f"{name} has no download link"
        where = (site / name).parent if (site / f"{name}.html").exists() else site / name
        assert (where / link.group(1)).resolve().is_file(), link.group(1)
    assert re.search(r'<a href="\d\d_\w+\.ipynb" download>', page(site, "notebooks/index"))
