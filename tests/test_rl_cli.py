"""``thetas rl``: short trainings end with one JSON line; a saved agent evaluates to the same numbers; mistakes exit 2.

The tests run through ``thetas.cli.main``; ``test_add_parser_on_its_own`` runs the command through
``thetas.cli.rl`` directly.
"""
import argparse

import pytest

pytest.importorskip("gymnasium")

from test_cli import last_json, run  # noqa: E402
from thetas.cli import main  # noqa: E402
from thetas.rl import DQNConfig  # noqa: E402
from thetas.cli import rl as rl_cli  # noqa: E402

QUICK = ["--learning-starts", "300", "--eval-every", "500", "--threads", "1", "--quiet"]


def test_cartpole_trains_saves_and_evaluates_to_the_same_numbers(capsys, tmp_path):
    model = str(tmp_path / "cartpole.safetensors")
    code, out, err = run(capsys, "rl", "cartpole", "--steps", "2000", "--eval-episodes", "5", "--seed", "3",
                         "--save", model, "--json", *QUICK)
    assert code == 0, err
    trained = last_json(out)
    for key in ("eval_mean_return", "eval_std_return", "steps", "seconds", "best_step", "reward_threshold"):
        assert key in trained
    assert trained["steps"] == 2000 and trained["best_step"] in (500, 1000, 1500, 2000)
    assert trained["env"] == "CartPole-v1" and trained["saved"] == model
    code, out, _ = run(capsys, "rl", "evaluate", model, "--episodes", "5", "--json")   # env from the file
    evaluated = last_json(out)
    assert code == 0 and evaluated["env"] == "CartPole-v1" and evaluated["seed"] == 1_000_003   # the same episodes
    assert evaluated["eval_mean_return"] == trained["eval_mean_return"]
    assert evaluated["eval_std_return"] == trained["eval_std_return"]


def test_apple_world_reports_reward_per_step_against_random_and_plots(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    plots = tmp_path / "plots"
    # one evaluation during training (at step 1,000) is enough for best_step: each is 3 episodes of 1,000 steps
    code, out, err = run(capsys, "rl", "apple-world", "--steps", "1000", "--eval-episodes", "2", "--plot",
                         str(plots), "--json", *QUICK, "--eval-every", "1000")
    assert code == 0, err
    r = last_json(out)
    assert r["env"] == "thetas/AppleWorld-v0" and r["steps"] == 1000
    assert {"reward_per_step", "random_reward_per_step", "eval_mean_return", "best_step"} <= set(r)
    assert sorted(p.name for p in plots.iterdir()) == ["apple_world.png", "training.png"]


def test_progress_goes_to_stderr_and_the_summary_to_stdout(capsys):
    code, out, err = run(capsys, "rl", "cartpole", "--steps", "1000", "--eval-episodes", "2",
                         "--learning-starts", "300", "--eval-every", "500")
    assert code == 0
    assert out.startswith("thetas: greedy return") and len(out.strip().splitlines()) == 1
    assert "eps=" in err and "return=" in err                          # the progress bar


def test_mistakes_are_one_line_and_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "rl", "evaluate", str(tmp_path / "missing.safetensors"))
    assert code == 2 and err.strip().count("\n") == 0 and "thetas rl: error" in err
    code, _, err = run(capsys, "rl", "cartpole", "--steps", "0")
    assert code == 2 and "--steps" in err
    model = str(tmp_path / "m.safetensors")
    assert run(capsys, "rl", "cartpole", "--steps", "400", "--eval-episodes", "1", "--save", model, *QUICK)[0] == 0
    code, _, err = run(capsys, "rl", "evaluate", model, "apple-world")
    assert code == 2 and "4 inputs" in err
    with pytest.raises(SystemExit):
        main(["rl", "mountain-car"])


def test_add_parser_on_its_own(capsys, tmp_path):
    parser = argparse.ArgumentParser(prog="thetas")
    rl_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["rl", "cartpole", "--steps", "600", "--eval-episodes", "2", "--json", *QUICK])
    assert args.func is rl_cli.run and args.env == "cartpole" and args.rl_command == "cartpole"
    assert args.func(args) == 0
    result = last_json(capsys.readouterr().out)
    assert result["steps"] == 600 and result["config"]["lr"] == DQNConfig().lr      # the library's defaults
    args = parser.parse_args(["rl"])
    assert args.func(args) == 2                                        # no environment: the help, exit 2
