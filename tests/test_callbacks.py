"""One training protocol: ``DQN.learn`` reports through ``th.fit``'s callbacks (History, ProgressBar, EarlyStopping,
ModelCheckpoint, TerminateOnNaN), and the callbacks' generalisations (patience=None, ties, quantities logged as None,
a trainer's own save, a bar of steps) leave ``fit`` as it was."""
import warnings

import numpy as np
import pytest

import thetas as th
from thetas.train import Callback, EarlyStopping, History, ModelCheckpoint, ProgressBar, TerminateOnNaN

pytest.importorskip("gymnasium")
from test_rl import EVERY_STEP, Chain, _flat  # noqa: E402
from thetas.rl import DQN, AgentTrainer  # noqa: E402


def chain_agent(**overrides):
    return DQN.for_env(Chain(), **{"hidden": (8,), "learning_starts": 20, **EVERY_STEP, "batch_size": 8, **overrides})


class Recorder(Callback):
    """Every hook call, the batch and epoch logs, and the Q-network's weights at each epoch end by step."""

    def __init__(self):
        self.calls, self.batches, self.epochs, self.weights = [], [], [], {}

    def on_train_begin(self, logs):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch, logs):
        self.calls.append(("epoch_begin", epoch, self.trainer.epoch))

    def on_batch_end(self, batch, logs):
        self.batches.append(dict(logs))

    def on_epoch_end(self, epoch, logs):
        self.calls.append(("epoch_end", epoch))
        self.epochs.append(dict(logs))
        self.weights[logs["steps"]] = _flat(self.trainer.model)

    def on_train_end(self, logs):
        self.calls.append("train_end")


# ---------------------------------------------------------------------- DQN.learn through the callbacks
LEARNS = dict(seed=3, lr=1e-2)   # its greedy returns go 1, 0, 0, 0, 1, 1, 1: ties for the best


def test_an_epoch_is_an_evaluation_period_and_history_records_it():
    agent, rec, history = chain_agent(**LEARNS), Recorder(), History()
    log = agent.learn(Chain(), 150, eval_env=Chain(), eval_every=20, eval_episodes=1, log_every=10,
                      callbacks=[rec, history])
    assert log["history"] is history and history.epoch == list(range(8))
    assert history.history["steps"] == [20, 40, 60, 80, 100, 120, 140, 150]  # the last 10 steps: an epoch too
    evals = history.history["eval_return"]
    assert evals[:7] == log["eval_mean"] and evals[7] is None                 # no evaluation in the last one
    assert history.history["eval_episodes"][:7] == [1] * 7
    assert np.isnan(history.history["loss"][0]) and np.isfinite(history.history["loss"][1:]).all()  # warm-up
    assert {"q_mean", "epsilon", "lr", "episodes", "episode_return", "seconds"} <= set(history.history)
    assert rec.calls[0] == "train_begin" and rec.calls[-1] == "train_end"
    assert isinstance(rec.trainer, AgentTrainer) and rec.trainer.model is agent.q and rec.trainer.agent is agent
    assert rec.trainer.epochs == 8 and rec.trainer.steps_per_epoch == 20 and rec.trainer.steps == 150
    assert rec.calls[1:3] == [("epoch_begin", 0, 0), ("epoch_end", 0)] and rec.calls[-2] == ("epoch_end", 7)
    # a batch is a log interval: the training log's per-interval lists are the batch logs
    assert [b["steps"] for b in rec.batches] == list(range(10, 151, 10)) == log["step"]
    assert [b["loss"] for b in rec.batches][2:] == log["loss"][2:] and [b["batch"] for b in rec.batches][:3] == [0, 1, 0]
    # the default keeper: the best evaluation's weights, the later one on a tie
    assert log["best_eval"] == max(log["eval_mean"])
    assert log["best_step"] == max(s for s, v in zip(log["eval_step"], log["eval_mean"]) if v == log["best_eval"])
    np.testing.assert_array_equal(_flat(agent.q), rec.weights[log["best_step"]])


def test_without_an_evaluation_environment_the_last_weights_stay():
    agent, rec = chain_agent(), Recorder()
    log = agent.learn(Chain(), 60, eval_every=20, callbacks=[rec])
    assert log["history"].history["steps"] == [20, 40, 60] and "eval_return" not in log["history"].history
    assert log["best_step"] is None and log["best_eval"] is None
    np.testing.assert_array_equal(_flat(agent.q), rec.weights[60])


def test_early_stopping_on_the_evaluation_return_stops_and_restores_the_best_q_network():
    agent, rec = chain_agent(seed=5, lr=1e-2), Recorder()               # greedy returns 0, 0, 0, 1, 1, 1, 0
    stopper = EarlyStopping(monitor="eval_return", mode="max", patience=3)
    log = agent.learn(Chain(), 2000, eval_env=Chain(), eval_every=20, eval_episodes=1, callbacks=[rec, stopper])
    history = log["history"]
    assert history.stopped_reason.startswith("EarlyStopping: eval_return did not improve for 3 epochs")
    assert len(history) == stopper.stopped_epoch + 1 < 20 and log["steps"] == 20 * len(history)
    best = stopper.best_epoch
    assert history.history["eval_return"][best] == max(log["eval_mean"]) == log["best_eval"]
    assert log["eval_mean"].index(log["best_eval"]) == best                  # ties='first': the earlier one
    assert log["best_step"] == history.history["steps"][best]
    np.testing.assert_array_equal(_flat(agent.q), rec.weights[log["best_step"]])


def test_model_checkpoint_saves_the_best_agent(tmp_path):
    agent, rec = chain_agent(**LEARNS), Recorder()
    best, every = tmp_path / "best.safetensors", str(tmp_path / "agent-{epoch}-{eval_return:.0f}.safetensors")
    log = agent.learn(Chain(), 150, eval_env=Chain(), eval_every=20, eval_episodes=1, callbacks=[
        rec, ModelCheckpoint(best, monitor="eval_return", mode="max", ties="last"),
        ModelCheckpoint(every, monitor="eval_return", mode="max")])
    saved = DQN.load(best)                                                    # an agent, not just its network
    np.testing.assert_array_equal(_flat(saved.q), _flat(agent.q))           # the same choice as the keeper
    assert saved.steps == log["best_step"] and saved.metadata["logs"]["eval_return"] == log["best_eval"]
    assert saved.metadata["epoch"] == log["eval_step"].index(log["best_step"]) + 1
    first_best = log["eval_mean"].index(log["best_eval"])
    assert (tmp_path / f"agent-{first_best + 1}-{log['best_eval']:.0f}.safetensors").is_file()


def test_the_progress_bar_counts_environment_steps(capsys):
    chain_agent().learn(Chain(), 110, eval_env=Chain(), eval_every=20, eval_episodes=1, log_every=10, verbose=True)
    out, err = capsys.readouterr()
    assert out == "" and "110/110" in err and "step/s" in err and "eval=" in err and "eps=" in err
    chain_agent().learn(Chain(), 50, callbacks=[ProgressBar()])              # yours, without verbose
    assert "50.0/50.0" in capsys.readouterr().err                             # tqdm unit_scale: 3 digits
    chain_agent().learn(Chain(), 50)
    assert capsys.readouterr() == ("", "")


def test_solving_the_task_stops_through_the_trainer():
    agent = chain_agent(hidden=(32,), lr=2e-3, gamma=0.9, learning_starts=200, target_update=50, batch_size=32,
                        exploration_fraction=0.5)
    log = agent.learn(Chain(), 3000, eval_env=Chain(), eval_every=100, eval_episodes=1, solved_at=1.0,
                      confirm_episodes=3)
    assert log["solved_step"] is not None and log["steps"] == log["solved_step"] < 3000
    assert log["history"].stopped_reason.startswith(f"DQN: solved at step {log['solved_step']:,}")
    assert log["eval_episodes"][-1] == 3                                      # the confirming evaluation


class NaNReward(Chain):
    """A corridor whose rewards turn NaN after 40 steps: TD targets, then the Q-network, would follow."""

    def __init__(self):
        super().__init__()
        self.steps = 0

    def step(self, a):
        obs, r, terminated, truncated, info = super().step(a)
        self.steps += 1
        return obs, float("nan") if self.steps > 40 else r, terminated, truncated, info


def test_terminate_on_nan_keeps_the_weights_from_before_the_bad_update():
    with np.errstate(invalid="ignore"):
        unguarded = chain_agent()
        unguarded.learn(NaNReward(), 200)
        assert not np.isfinite(_flat(unguarded.q)).all()
        agent, rec = chain_agent(), Recorder()
        log = agent.learn(NaNReward(), 200, eval_every=20, callbacks=[rec, TerminateOnNaN()])
    reason = log["history"].stopped_reason
    assert reason.startswith("TerminateOnNaN: stopped at epoch") and "the TD loss is nan" in reason
    assert log["steps"] < 200 and np.isfinite(_flat(agent.q)).all()
    assert rec.epochs[-1]["steps"] == log["steps"]                            # the cut epoch still reports


def test_learn_refuses_what_is_not_a_callback():
    with pytest.raises(TypeError, match="Callback"):
        chain_agent().learn(Chain(), 10, callbacks=[print])


# ---------------------------------------------------------------------- the generalisations, on their own
class FakeTrainer:
    def __init__(self, model):
        self.model, self.history, self.stop_training, self.saved = model, History(), False, []

    def stop(self, reason):
        self.stop_training = True
        self.history.stopped_reason = self.history.stopped_reason or reason


def run_epochs(cb, values, key="score", trainer=None):
    model = th.models.MLP([2, 2], generator=0)
    trainer = trainer or FakeTrainer(model)
    cb.set_trainer(trainer)
    cb.on_train_begin({})
    for epoch, v in enumerate(values):
        model.parameters()[0].data[...] = epoch                             # the weights say which epoch
        cb.on_epoch_end(epoch, {key: v, "other": 0.0})
        if trainer.stop_training:
            break
    cb.on_train_end({})
    return trainer, model


def test_early_stopping_patience_none_and_ties():
    stopper = EarlyStopping("score", mode="max", patience=None)
    trainer, model = run_epochs(stopper, [1.0, 3.0, 2.0, 3.0, 0.0, 0.0, 0.0, 0.0])
    assert not trainer.stop_training and stopper.best_epoch == 1 and model.parameters()[0].data[0, 0] == 1
    stopper = EarlyStopping("score", mode="max", patience=None, ties="last")
    _, model = run_epochs(stopper, [1.0, 3.0, 2.0, 3.0, 0.0])
    assert stopper.best_epoch == 3 and model.parameters()[0].data[0, 0] == 3
    with pytest.raises(ValueError, match="ties"):
        EarlyStopping(ties="middle")


def test_a_quantity_logged_as_none_is_skipped_quietly_and_a_missing_one_warns():
    stopper = EarlyStopping("score", mode="max", patience=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer, _ = run_epochs(stopper, [1.0, None, None, None, 0.5, None, 0.5])
    assert stopper.stopped_epoch == 6 and "did not improve for 2 epochs" in trainer.history.stopped_reason
    with pytest.warns(RuntimeWarning, match="'score' is not in the logs"):
        run_epochs(EarlyStopping("score"), [1.0, 2.0], key="loss")
    with pytest.warns(RuntimeWarning, match="nothing is saved"):
        run_epochs(ModelCheckpoint("unused.safetensors", "score"), [1.0], key="loss")


def test_model_checkpoint_uses_the_trainers_own_save(tmp_path):
    trainer = FakeTrainer(th.models.MLP([2, 2], generator=0))
    trainer.save = lambda path, metadata=None: trainer.saved.append((path, metadata["epoch"]))
    run_epochs(ModelCheckpoint(str(tmp_path / "m.safetensors"), "score", mode="max", ties="last"),
               [1.0, 1.0, 0.0, None], trainer=trainer)
    assert [e for _, e in trainer.saved] == [1, 2] and not list(tmp_path.iterdir())


def test_a_bar_of_steps_needs_a_trainer_that_counts_them():
    bar = ProgressBar(unit="step")
    bar.set_trainer(FakeTrainer(None))
    bar.trainer.epochs = 1
    with pytest.raises(ValueError, match="total_steps"):
        bar.on_train_begin({})
    with pytest.raises(ValueError, match="'step'"):
        ProgressBar(unit="steps")
