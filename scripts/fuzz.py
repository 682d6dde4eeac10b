"""A longer fuzz run of every file loader: ``tests/test_fuzz.py`` with many more examples per loader.

    python scripts/fuzz.py                 # 5,000 examples per loader, a new random seed each run
    python scripts/fuzz.py --examples 20000 --loader read_idx

Each loader is given mutated copies of a valid file and must load it or raise its documented error (a
ValueError or FileNotFoundError naming the file). A failure prints hypothesis's smallest failing example
(the mutated bytes); the exit status is pytest's (0: nothing found).
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000, help="examples per loader (default 5000)")
    parser.add_argument("--loader", default=None,
                        help="only the tests whose name contains this (th_load, read_idx, from_csv, load_dkt_csv, "
                             "load_assistments_csv, load_students, load_image)")
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error("--examples must be at least 1")
    env = dict(os.environ, THETAS_FUZZ_EXAMPLES=str(args.examples))   # also makes the run random, not fixed
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_fuzz.py"),
           "--hypothesis-show-statistics"] + (["-k", args.loader] if args.loader else [])
    return subprocess.call(cmd, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
