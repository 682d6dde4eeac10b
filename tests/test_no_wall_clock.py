"""No test asserts a wall-clock time: how long something took depends on the machine and on whatever else runs
on it (a test that passes on an idle laptop fails on a busy one), so speed is measured by the scripts in
benchmarks/, and tests assert behaviour. A timing value is a clock reading (``time.time()``,
``time.perf_counter()``, ``time.monotonic()``, ...), a variable computed from one, or a name, attribute or key that
says it holds a duration or a rate (``seconds``, ``elapsed``, ``per_request``, ``samples_per_s``, ...). Waiting
with a deadline (``while time.time() < deadline``) is not an assertion and stays allowed, and so is comparing
a timing value with 0 (a rate is shown, some time passed): no speed is required by it."""
import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CLOCKS = {"time", "perf_counter", "monotonic", "process_time", "thread_time", "time_ns", "perf_counter_ns",
          "monotonic_ns", "process_time_ns", "default_timer"}
TIMING_NAME = re.compile(r"(^|_)(seconds|secs|elapsed|duration|latency|took|per_request|wall|ms|per_s|per_sec|"
                         r"ups|fps|throughput)($|_)|^t\d$", re.IGNORECASE)
ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _is_clock_call(node):
    """``time.perf_counter()``, ``perf_counter()``, ``timeit.default_timer()``, ..."""
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
    return name in CLOCKS and (not isinstance(f, ast.Attribute) or isinstance(f.value, ast.Name)
                               and f.value.id in ("time", "timeit"))


def _names(node):
    """The identifiers ``node`` reads: variable names, attribute names, and string subscripts (``r["seconds"]``)."""
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            yield n.id
        elif isinstance(n, ast.Attribute):
            yield n.attr
        elif isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant) and isinstance(n.slice.value, str):
            yield n.slice.value


def _clock_variables(scope):
    """Names assigned, anywhere in ``scope``, from a clock reading or from another such name (to a fixed point)."""
    tainted, changed = set(), True
    while changed:
        changed = False
        for n in ast.walk(scope):
            if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and n.value is not None:
                targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                value_tainted = any(_is_clock_call(v) for v in ast.walk(n.value)) or \
                    any(name in tainted for name in _names(n.value))
                if value_tainted or (isinstance(n, ast.AugAssign) and _names(n.target) and
                                     any(name in tainted for name in _names(n.target))):
                    for t in targets:
                        for name in (x.id for x in ast.walk(t) if isinstance(x, ast.Name)):
                            if name not in tainted:
                                tainted.add(name)
                                changed = True
    return tainted


def _is_timing(node, tainted):
    return any(_is_clock_call(n) for n in ast.walk(node)) or \
        any(name in tainted or TIMING_NAME.search(name) for name in _names(node))


def _is_zero(node):
    return isinstance(node, ast.Constant) and not isinstance(node.value, bool) and node.value == 0


def timing_assertions(source, filename="<test>"):
    """``[(line, text)]``: each ``assert`` of ``source`` that orders a timing value against something."""
    tree = ast.parse(source, filename=filename)
    found = []
    scopes = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))] + [tree]
    for scope in scopes:
        tainted = _clock_variables(scope)
        for node in ast.walk(scope):
            if not isinstance(node, ast.Assert):
                continue
            for cmp in (n for n in ast.walk(node.test) if isinstance(n, ast.Compare)):
                operands = [cmp.left, *cmp.comparators]
                for op, a, b in zip(cmp.ops, operands, operands[1:]):
                    if _is_zero(a) or _is_zero(b):            # 'some time passed', 'a rate is shown': no speed
                        continue
                    if isinstance(op, ORDERING) and (_is_timing(a, tainted) or _is_timing(b, tainted)):
                        found.append((node.lineno, ast.get_source_segment(source, node) or ""))
    return sorted(set(found))


def test_no_test_asserts_a_wall_clock_time():
    offenders = [f"{path.name}:{line}: {text}" for path in sorted(TESTS.glob("*.py"))
                 for line, text in timing_assertions(path.read_text(encoding="utf-8"), str(path))]
    assert offenders == [], "wall-clock assertions belong in benchmarks/, not tests:\n" + "\n".join(offenders)


def test_the_check_finds_the_usual_forms():
    for bad in ("t0 = time.time()\nrun()\nassert time.time() - t0 < 20",
                "t0 = time.perf_counter()\nrun()\nper_request = (time.perf_counter() - t0) / 80\n"
                "assert per_request < 0.05, per_request",
                "from time import perf_counter\nstart = perf_counter()\nrun()\nassert perf_counter() - start <= 1",
                "def test_x():\n    r = run()\n    assert r['seconds'] < 5",
                "def test_x():\n    assert result.samples_per_s > 1000 and ok",
                "def test_x():\n    elapsed = measure()\n    assert 0.5 > elapsed"):
        assert timing_assertions(bad), bad


def test_the_check_leaves_deadlines_and_other_comparisons_alone():
    for good in ("deadline = time.time() + 120\nwhile time.time() < deadline:\n    poll()\nassert state == 'ready'",
                 "assert job.seconds is not None and cached.seconds is None",
                 "assert {'seconds', 'epochs'} <= set(result)",
                 "assert r['epochs'] == 3 and r['test_accuracy'] > 0.9",
                 "assert len(steps) > 5 and s['steps'] > 800",
                 "assert ups != '-' and int(ups) > 0 and r['seconds'] >= 0"):
        assert timing_assertions(good) == [], good
