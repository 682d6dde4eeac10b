"""The layout the code keeps: imports go one way (commands import the library, nothing in the library imports the
command line), ``thetas dkt`` and the lab's Knowledge page train with the same library function, and the names the
lecture shows are the objects of their new homes, not copies."""
import ast
import importlib
import json
import re
from pathlib import Path

import pytest

import thetas as th
from thetas.cli import main

PACKAGE = Path(th.__file__).parent
CLI = PACKAGE / "cli"


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path):
    """Every module ``path`` imports (absolute names; ``from X import name`` counts X and X.name), including
    ``importlib.import_module("...")`` calls with a literal name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            found.add(str(node.args[0].value))
    return found


def _imports_cli(path):
    return sorted(m for m in imported_modules(path) if m == "thetas.cli" or m.startswith("thetas.cli."))


def test_the_import_reader_resolves_relative_imports(tmp_path):
    assert "thetas.cli.common" in imported_modules(CLI / "dkt.py")              # from .common import ...
    assert "thetas.knowledge" in imported_modules(CLI / "dkt.py")               # from ..knowledge import ...
    assert "thetas.cli" in imported_modules(PACKAGE / "__main__.py")            # from .cli import main
    assert "thetas.knowledge.model" in imported_modules(PACKAGE / "knowledge" / "tutor.py")


def test_nothing_outside_the_command_line_imports_it():
    modules = [p for p in PACKAGE.rglob("*.py") if CLI not in p.parents]
    assert len(modules) > 40
    offenders = {str(p.relative_to(PACKAGE)): _imports_cli(p) for p in modules if _imports_cli(p)}
    # `python -m thetas` is the command line's own entry point, the one module that runs it
    assert offenders == {"__main__.py": ["thetas.cli", "thetas.cli.main"]}


def test_every_command_is_one_module_with_add_parser_and_run():
    from thetas import cli
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert set(commands) == {m.__name__.rpartition(".")[2] for m in cli.COMMANDS}
    for module in cli.COMMANDS:
        assert callable(module.add_parser) and callable(module.run), module.__name__
        assert Path(module.__file__).parent == CLI
    # only thetas/cli/common.py is shared: a command does not reach into another command's module (gradcheck
    # borrows train's list of activations, a constant)
    for path in CLI.glob("*.py"):
        others = {m for m in imported_modules(path) if m.startswith("thetas.cli.")} - {"thetas.cli.common"}
        others = {m for m in others if not m.startswith("thetas.cli.common.")}
        if path.name == "__init__.py":
            continue
        assert others <= {"thetas.cli.train", "thetas.cli.train.ACTIVATIONS"}, (path.name, others)


def test_dkt_formats_are_the_librarys():
    from thetas.cli import dkt
    assert dkt.DKT_FORMATS is th.knowledge.FORMATS == ("dkt-csv", "assistments")


def _calls(path, name):
    return [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.Call) and getattr(n.func, "id", None) == name]


def test_thetas_dkt_and_the_lab_train_with_the_same_function(monkeypatch, tmp_path):
    lab_module = PACKAGE / "lab" / "knowledge.py"
    for path in (CLI / "dkt.py", lab_module):
        assert "thetas.knowledge.train_dkt" in imported_modules(path) and _calls(path, "train_dkt"), path
        assert "thetas.knowledge.held_out" in imported_modules(path), path       # and hold out students alike

    class Reached(Exception):
        pass

    calls = []

    def spy(train, test=None, **kwargs):
        calls.append((train, test, kwargs))
        raise Reached

    monkeypatch.setattr(th.knowledge, "train_dkt", spy)
    with pytest.raises(Reached):
        main(["dkt", "--data", "synthetic-5", "--samples", "20", "--hidden", "8", "--quiet"])
    from thetas.lab import knowledge as lab
    with pytest.raises(Reached):
        lab.train(tmp_path / "dkt.safetensors", epochs=1)
    (cli_train, cli_test, cli_kw), (lab_train, lab_test, lab_kw) = calls
    defaults = th.knowledge.DEFAULTS
    assert len(cli_train) == len(cli_test) == 20 and cli_kw["model"].hidden_size == 8
    assert cli_kw["max_len"] == defaults["max_len"] and cli_kw["lr"] == defaults["lr"]
    assert len(lab_train) == 2000 and lab_test is None and lab_kw["hidden"] == lab.HIDDEN
    assert lab_kw["max_len"] == lab.WINDOW and lab_kw["lr"] == 1e-2       # the lab's quick 3-epoch demo


def test_the_lab_trainer_reports_progress_and_saves_a_dkt(tmp_path, capsys):
    from thetas.lab import knowledge as lab
    text = "".join(f"5\n{i % 4},{(i + 1) % 4},2,3,{i % 3}\n1,0,{i % 2},1,1\n" for i in range(40))
    path = tmp_path / "students.csv"
    path.write_text(text)
    lab.train(tmp_path / "dkt.safetensors", epochs=2, data=str(path))
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("{")]
    last = json.loads(lines[-1])
    assert last["epoch"] == 2 and last["fraction"] == 1.0 and last["loss"] > 0
    model = th.load(tmp_path / "dkt.safetensors")
    assert isinstance(model, th.knowledge.DKT) and model.hidden_size == lab.HIDDEN and model.num_questions == 4
    assert th.load_metadata(tmp_path / "dkt.safetensors")["user"]["students"] == 40 - round(0.2 * 40)


def test_the_lectures_names_are_the_objects_of_their_new_homes():
    k = th.knowledge
    assert th.models.DKT is k.DKT and th.models.dkt_array is k.dkt_array and th.models.dkt_loss is k.dkt_loss
    assert th.data.Students is k.Students and th.data.synthetic_5 is k.synthetic_5
    assert th.data.load_students is k.load_students and th.data.optimal_predictions is k.optimal_predictions
    assert th.tutor is k.tutor and th.tutor.knowledge_trace is k.knowledge_trace
    assert importlib.import_module("thetas.tutor") is k.tutor                     # one module, two names
    assert th.viz.plot_knowledge_trace is k.plots.plot_knowledge_trace
    assert th.viz.save_dkt_plots is k.plots.save_dkt_plots


def test_design_md_lists_every_module_of_the_tree():
    """docs/DESIGN.md's layout names every package and module that exists, and no file that does not."""
    text = (PACKAGE.parent / "docs" / "DESIGN.md").read_text("utf-8")
    block = text.split("## Layout", 1)[1].split("```")[1]
    named = set(re.findall(r"[A-Za-z_]+\.py|(?<![\w/])[a-z_]+/(?!\w)", block))
    tree = {p.name for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}
    tree |= {p.name + "/" for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    missing = sorted(n for n in tree if n not in named)
    assert not missing, f"docs/DESIGN.md does not mention {missing}"
    files = {p.name for p in PACKAGE.rglob("*.py")} | {p.name + "/" for p in PACKAGE.rglob("*") if p.is_dir()}
    stale = sorted(n for n in named if n not in files and n not in ("thetas/",))
    assert not stale, f"docs/DESIGN.md names {stale}, which the tree does not have"
