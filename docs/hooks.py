"""mkdocs hooks of the documentation site: the pages that restate something are made from it, so they never drift.

- ``notebooks/``: every ``notebooks/NN_<part>.ipynb`` as it is (rendered by mkdocs-jupyter, never executed), listed
  under "Tutorial" in the navigation in file order, each titled by its first markdown heading;
- ``index.md``: README.md, less the sections that have their own page;
- ``cli/index.md``: README's "The command line" (less the lab); ``cli/reference.md``: every command and option,
  read from ``thetas.cli.build_parser()``;
- ``lab/index.md``: README's lab section and each page the lab declares (``thetas.lab.server.PAGES``) with its
  screenshot ``docs/lab/<address>.png`` and its API routes;
- ``numbers.md``: README's "Numbers" and ``benchmarks/README.md``;

and the search of a copy opened from disk uses ``docs/javascripts/file-worker.js``, not a script from unpkg.com.

A README section that is gone raises, so ``mkdocs build --strict`` (``tests/test_docs_site.py``) names it.
"""
import argparse
import json
import logging
import posixpath
import re
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:       # the commands and lab pages documented are this tree's, not an installed copy's
    sys.path.insert(0, str(ROOT))
NOTEBOOKS = ROOT / "notebooks"
TUTORIAL = "notebooks"         # the notebooks' folder, in the repository and on the site
log = logging.getLogger("mkdocs.hooks.thetas")


# ------------------------------------------------------------------------------------------------- the notebooks
def notebooks():
    """The lecture's notebooks, in file order (``01_one_neuron.ipynb``, ...)."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def notebook_title(path):
    """The notebook's first markdown heading, without its ``#``s and markup; else its name, humanised."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError) as e:
        raise PluginError(f"{path}: not a notebook ({e})") from None
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            source = "".join(cell.get("source", []))
            for line in source.splitlines():
                if line.startswith("#"):
                    return re.sub(r"[`*_]", "", line.lstrip("#")).strip()
    return path.stem.split("_", 1)[-1].replace("_", " ").capitalize()


def tutorial_index():
    lines = ["# Tutorial: the lecture, runnable", "",
             "One notebook per part of the lecture, shown here as committed: without its outputs. Each runs top "
             "to bottom in Jupyter (download it from its page), and its exercises check themselves:", "",
             '    pip install ".[notebooks]" && jupyter lab notebooks/', ""]
    paths = notebooks()
    lines += [f'- [{notebook_title(p)}]({p.name}) · <a href="{p.name}" download>{p.name}</a>' for p in paths] \
        or ["(No notebook is written yet.)"]
    return "\n".join(lines) + "\n"


@event_priority(-100)           # after the offline plugin, which adds a polyfill fetched from unpkg.com
def on_config(config):
    """The "Tutorial" section of the navigation: its index, then one entry per notebook, titled by its heading.
    And search from disk (file://) with no network: docs/javascripts/file-worker.js, not the shim on unpkg.com."""
    polyfills = [p for p in config.extra.get("polyfills", []) if "iframe-worker" not in str(p)]
    config.extra["polyfills"] = [*polyfills, "javascripts/file-worker.js"]
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is not None and mathjax_files() is not None:     # the notebooks' formulas, typeset from this site
        up = "../../" if config["use_directory_urls"] else "../"
        jupyter.config["custom_mathjax_url"] = f"{up}{MATHJAX}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,thetas"
    entries = [f"{TUTORIAL}/index.md"] + [{notebook_title(p): f"{TUTORIAL}/{p.name}"} for p in notebooks()]
    for item in config["nav"]:
        if isinstance(item, dict) and "Tutorial" in item:
            item["Tutorial"] = entries
            return config
    raise PluginError('mkdocs.yml: the nav has no "Tutorial" section for the notebooks')


# ------------------------------------------------------------------------------------------------ README's parts
def sections(text, level):
    """``text`` cut at its headings of ``level`` (2: ``## ``): [(title, body)], the part before the first as ''."""
    mark = "#" * level + " "
    out, title, body = [], "", []
    for line in text.splitlines():
        if line.startswith(mark):
            out.append((title, body))
            title, body = line[len(mark):].strip(), []
        else:
            body.append(line)
    out.append((title, body))
    return [(t, "\n".join(b).strip("\n")) for t, b in out]


def section(text, title, level=2, source="README.md"):
    for t, body in sections(text, level):
        if t == title:
            return body
    raise PluginError(f'{source} has no section "{"#" * level} {title}", which the documentation site shows')


def relink(text, page):
    """README's links, seen from the site's ``page``: ``docs/X`` becomes the site's own X, a link to any other file
    of the repository (outside the site) its plain text."""
    base = posixpath.dirname(page)

    def fix(m):
        bang, label, target = m.group(1), m.group(2), m.group(3)
        if re.match(r"[a-z]+:|#", target):
            return m.group(0)
        if target.startswith("docs/"):
            return f"{bang}[{label}]({posixpath.relpath(target[len('docs/'):], base or '.')})"
        return label
    return re.sub(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)", fix, text)


def readme():
    return (ROOT / "README.md").read_text(encoding="utf-8")


SITE_MAP = ("!!! note \"This site\"\n    The [tutorial](notebooks/index.md), the lecture's notebooks; "
            "[the command line](cli/index.md) with [every option](cli/reference.md); [the lab](lab/index.md); "
            "[the lecture in thetas](lecture.md); the [API reference](reference/index.md), from the docstrings; "
            "and [the numbers](numbers.md), with how to reproduce them.")

# sections of README.md that have their own page, and where
MOVED = {"The command line": "cli/index.md", "Numbers": "numbers.md"}


def home_page():
    text = readme()
    for title in MOVED:
        section(text, title)        # a section that is gone is a mistake of the site, not silence
    out = []
    for title, body in sections(text, 2):
        body = f"On its own page: [{title}]({MOVED[title]})." if title in MOVED else relink(body, "index.md")
        out += ([f"## {title}", ""] if title else []) + [body, ""]
        if not title:               # after the introduction: what this site holds beyond the README
            out += [SITE_MAP, ""]
    return "\n".join(out)


def cli_page():
    body = section(readme(), "The command line")
    kept = [f"## {t}\n\n{b}" if t else b for t, b in sections(body, 3) if t != "The lab"]
    text = "\n\n".join(kept)
    return ("# The command line\n\nEvery command with every option, as `thetas COMMAND --help` prints them: "
            "[every command](reference.md). The lab has [its own page](../lab/index.md).\n\n"
            + relink(text, "cli/index.md"))


def numbers_page():
    bench = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    bench = re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", bench, flags=re.M)    # one level down
    return ("# Numbers\n\n" + relink(section(readme(), "Numbers"), "numbers.md") +
            "\n\nEach row names the command or script that reproduces it, run from the repository's root (with "
            "`THETAS_DATA` naming the folder of MNIST and ASSISTments where a row reads them). The benchmarks below "
            "write their output to `benchmarks/results/`, which is not committed.\n\n"
            + relink(bench, "numbers.md") + "\n")


# --------------------------------------------------------------------------------------------------------- the lab
def lab_page(docs_dir):
    body = section(section(readme(), "The command line"), "The lab", level=3)
    prose = "\n".join(line for line in body.splitlines() if not line.startswith("|"))   # the screenshots follow
    out = ["# The lab", "", relink(prose.strip("\n"), "lab/index.md"), ""]
    try:
        from thetas.lab.server import PAGES
    except ImportError as e:            # the lab's extra (starlette) is not installed: the prose stands alone
        log.info("the lab's pages are not listed: %s", e)
        return "\n".join(out)
    out += ["## Its pages", ""]
    for page in PAGES:
        out += [f"### {page.title}", "", f"`http://127.0.0.1:8000{page.path}`: {page.summary}", ""]
        shot = page.path.strip("/") + ".png"
        if (Path(docs_dir) / "lab" / shot).exists():       # a click shows it at its full size
            out += [f"[![{page.title}]({shot})]({shot})", ""]
        if (Path(docs_dir) / "lab" / "phone" / shot).exists():
            out += [f"On a 390 px phone: ![{page.title} on a phone](phone/{shot}){{ width=195 }}", ""]
        if page.routes:
            out += ["| request | what it does |", "|---|---|"]
            out += [f"| `{r.method} {r.path}` | {cell(r.doc)} |" for r in page.routes]
            out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------- the command line
def cell(text):
    """Plain text made safe in a markdown table cell."""
    text = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([*_`])", r"\\\1", " ".join(text.split()))


def option_row(parser, action):
    names = ", ".join(f"`{n}`" for n in action.option_strings) or f"`{action.metavar or action.dest}`"
    if action.choices and not isinstance(action, argparse._SubParsersAction):
        value = " \\| ".join(f"`{c}`" for c in action.choices)
    elif action.nargs == 0:
        value = ""
    else:
        value = f"`{action.metavar or action.dest.upper()}`" if action.option_strings else ""
    default = action.default
    shown = "" if default in (None, False, argparse.SUPPRESS) or action.nargs == 0 else f"`{default}`"
    helptext = parser._get_formatter()._expand_help(action) if action.help else ""
    return f"| {names} | {value} | {shown} | {cell(helptext)} |"


def subcommands(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            return [(name, helps.get(name, ""), sub) for name, sub in action.choices.items()]
    return []


def command_section(name, helptext, parser, level):
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=88)
    out = [f"{'#' * level} `{name}`", ""]
    if helptext:
        out += [cell(helptext)[0].upper() + cell(helptext)[1:] + ".", ""]
    if parser.description:
        out += [cell(parser.description), ""]
    usage = parser.format_usage().strip().removeprefix("usage: ").splitlines()
    out += ["```", usage[0], *(line[len("usage: "):] for line in usage[1:]), "```", ""]
    rows = [option_row(parser, a) for a in parser._actions
            if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]
    if rows:
        out += ["| argument | value | default | meaning |", "|---|---|---|---|", *rows, ""]
    for sub, subhelp, subparser in subcommands(parser):
        out += command_section(f"{name} {sub}", subhelp, subparser, level + 1)
    return out


def cli_reference():
    from thetas.cli import build_parser
    parser = build_parser()
    out = ["# Every command and option", "",
           "Read from the command line's own parser (`thetas COMMAND --help` prints the same). Every command takes "
           "`--json`: the last line of stdout is then one JSON object of its final metrics. "
           "Exit status: 0 done, 1 it ran and failed, 2 a mistake in the command (one line on stderr), "
           "130 interrupted.", "",
           "| command | what it does |", "|---|---|"]
    commands = subcommands(parser)
    out += [f"| [`thetas {n}`](#thetas-{n}) | {cell(h)} |" for n, h, _ in commands] + [""]
    out += ["| option of `thetas` itself | meaning |", "|---|---|"]
    out += [f"| {', '.join(f'`{o}`' for o in a.option_strings)} | {cell(a.help)} |" for a in parser._actions
            if a.option_strings and not isinstance(a, argparse._HelpAction)] + [""]
    for name, helptext, sub in commands:
        out += command_section(f"thetas {name}", helptext, sub, 2)
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------------ the formulas
MATHJAX = "assets/mathjax"       # where on the site the notebooks' MathJax lives
# MathJax 2 as Jupyter's own server ships it (the jupyter-server-mathjax package: STIX-Web fonts only), told to use
# them; loaded after the combined configuration named in the address
MATHJAX_CONFIG = """MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web",
                                        imageFont: null}, messageStyle: "none"});
MathJax.Ajax.loadComplete("[MathJax]/config/thetas.js");
"""


def mathjax_files():
    """The folder of MathJax 2 that the jupyter-server-mathjax package holds, or None without it (the formulas
    then show as their TeX source)."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        return None
    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    return static if (static / "MathJax.js").is_file() else None


def on_post_build(config):
    """A copy of MathJax on the site (what the notebooks' pages use of it: no localizations), and its settings."""
    import shutil
    static = mathjax_files()
    if static is None:
        log.info("jupyter-server-mathjax is not installed: the notebooks' formulas show as TeX")
        return
    out = Path(config["site_dir"]) / MATHJAX
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(static, out, ignore=shutil.ignore_patterns("localization"))
    (out / "config" / "thetas.js").write_text(MATHJAX_CONFIG, encoding="utf-8")


# -------------------------------------------------------------------------------------------------------- the files
@event_priority(100)        # before mkdocs-jupyter's on_files, which makes the notebooks pages
def on_files(files, config):
    pages = {"index.md": home_page(), f"{TUTORIAL}/index.md": tutorial_index(), "cli/index.md": cli_page(),
             "cli/reference.md": cli_reference(), "lab/index.md": lab_page(config["docs_dir"]),
             "numbers.md": numbers_page()}
    for uri, content in pages.items():
        if files.get_file_from_path(uri):
            raise PluginError(f"docs/{uri} is made by docs/hooks.py: remove the file")
        files.append(File.generated(config, uri, content=content))
    for path in notebooks():     # a real file, at the same place on the site as in the repository
        files.append(File(f"{TUTORIAL}/{path.name}", src_dir=str(ROOT), dest_dir=config["site_dir"],
                          use_directory_urls=config["use_directory_urls"]))
    return files
