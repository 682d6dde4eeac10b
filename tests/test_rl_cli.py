"""``thetas rl``: short trainings end with one JSON line; a saved agent evaluates to the same numbers; mistakes exit 2.

The tests run through ``thetas.cli.main``; ``test_add_parser_on_its_own`` runs the command through
``thetas.cli.rl`` directly.
"""
import argparse

import pytest

pytest.importorskip("gymnasium")

from test_cli import last_json, run  # noqa: E402
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
    code, _, err = run(capsys, "rl", "mountain-car")                   # argparse's finding: one line too
    assert code == 2 and err.strip().count("\n") == 0 and "mountain-car" in err


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


def test_a_short_run_scales_its_warm_up_evaluations_and_final_episodes():
    """``thetas rl apple-world --steps 5000`` once stayed in its 5,000-step warm-up (ε = 1) and then spent 100
    episodes of 1,000 steps on the final evaluation: a short run now plays at random for at most a tenth of its
    steps, is evaluated at least every quarter, and plays no more final episodes than its steps fill."""
    apple, cart = rl_cli.ENVS["apple-world"], rl_cli.ENVS["cartpole"]
    defaults = argparse.Namespace(learning_starts=None, eval_every=None, eval_episodes=None)
    apple_config = DQNConfig(**apple["config"])
    assert rl_cli._scaled(defaults, apple, apple_config, 5_000, 1_000) == (500, 1_250, 5)
    assert rl_cli._scaled(defaults, apple, apple_config, 100_000, 1_000) == (5_000, 10_000, 20)   # the defaults
    assert rl_cli._scaled(defaults, cart, DQNConfig(), 200_000, 500) == (1_000, 5_000, 100)
    assert rl_cli._scaled(defaults, cart, DQNConfig(), 300, 500) == (64, 75, 2)   # a warm-up fills one minibatch
    given = argparse.Namespace(learning_starts=7, eval_every=9, eval_episodes=3)
    assert rl_cli._scaled(given, apple, apple_config, 5_000, 1_000) == (7, 9, 3)


def test_a_run_without_evaluation_says_so(capsys):
    code, out, err = run(capsys, "rl", "cartpole", "--steps", "300", "--eval-every", "1000", "--learning-starts",
                         "100", "--eval-episodes", "1", "--threads", "1")
    assert code == 0 and "no evaluation during training" in out and "None" not in out
    assert "final evaluation" in err                                   # the final evaluation's progress bar
