"""``thetas dkt``: Deep Knowledge Tracing, what does Riley know? Trains with ``thetas.knowledge.train_dkt``.

    thetas dkt --data synthetic-5 --concepts 5 --plot kt/
    thetas dkt --data answers.csv
    thetas dkt --data train.txt --test test.txt --cell gru --save dkt.safetensors
"""
import os

import numpy as np

from ..knowledge import DEFAULTS
from ..knowledge import FORMATS as DKT_FORMATS
from ..knowledge.train import SCHEDULES
from .common import (INTERRUPTED, CLIError, add_checkpoint, add_json, add_quiet, add_threads, check_writable,
                     checkpoint_paths, log, peak_memory_mb, pyplot, report, resumable, set_threads)


def add_parser(subparsers):
    k = subparsers.add_parser("dkt", help="Deep Knowledge Tracing: predict each student's next answer, find the "
                              "concepts", description="Train a DKT network (an LSTM over [question, answer] "
                              "pairs) on students' answer sequences and report the AUC of its next-answer "
                              "predictions on held-out students.")
    k.add_argument("--data", required=True, metavar="synthetic-5|PATH",
                   help="synthetic-5 (the DKT paper's 2,000 + 2,000 simulated students, 50 questions, 5 concepts) "
                   "or a file of real answers")
    k.add_argument("--test", metavar="PATH", help="a file of test students (default: 20%% of --data's students, "
                   "split by student with --seed)")
    k.add_argument("--format", metavar="|".join(DKT_FORMATS), help="dkt-csv: 3 lines per student (count, question "
                   "ids, answers); assistments: the ASSISTments 2009 CSV (a header row, one row per answer; "
                   "question = skill_id). Default: assistments if the first line has letters, else dkt-csv")
    k.add_argument("--cell", choices=("lstm", "rnn", "gru"), default="lstm",
                   help="the recurrent cell: an LSTM (as the paper), a plain tanh RNN or a GRU")
    d = DEFAULTS
    k.add_argument("--hidden", type=int, default=d["hidden"], help=f"hidden units (default "
                   f"{d['hidden']}, as the paper)")
    k.add_argument("--epochs", type=int, default=d["epochs"], help="passes over the training windows (default: "
                   "about 2,000 optimizer steps, 3 to 10 epochs: fewer passes on more students)")
    k.add_argument("--lr", type=float, default=d["lr"], help=f"Adam's learning rate (default {d['lr']:g})")
    k.add_argument("--batch-size", type=int, default=d["batch_size"], help=f"windows per batch (default "
                   f"{d['batch_size']}; windows of similar length are batched together)")
    k.add_argument("--dropout", type=float, default=d["dropout"], help=f"dropout on the hidden state before the "
                   f"output layer (default {d['dropout']:g})")
    k.add_argument("--schedule", choices=SCHEDULES, default=d["schedule"], help="the learning rate over the "
                   f"epochs: cosine-annealed to 0, or constant (default {d['schedule']})")
    k.add_argument("--max-len", type=int, default=d["max_len"], help=f"cut longer sequences into windows of this "
                   f"many answers (default {d['max_len']})")
    k.add_argument("--concepts", type=int, metavar="K", help="cluster the questions into K concepts from what the "
                   "network learned (JSON: concepts, and concept_ari on synthetic data)")
    k.add_argument("--seed", type=int, default=0, help="the simulated students, the held-out split, the initial "
                   "thetas and the batches' order")
    k.add_argument("--samples", type=int, metavar="N", help="a quick run: only the first N training and the first "
                   "N test students")
    add_threads(k)
    k.add_argument("--plot", metavar="DIR", help="write PNGs: learning curves, the influence graph, the questions' "
                   "clusters (--concepts K, else 5) and one test student's knowledge trace")
    k.add_argument("--save", metavar="PATH", help="write the trained model (.safetensors) with its question names")
    add_checkpoint(k, "thetas dkt")
    add_quiet(k)
    add_json(k)
    k.set_defaults(func=run)
    return k


def _read_students(path, fmt, option="--data"):
    from ..knowledge import guess_format, load_students
    if not os.path.isfile(path):
        raise CLIError(f"no such file: {path} ({option} takes " + ("synthetic-5 or " if option == "--data" else "")
                       + "a file of students' answers)")
    try:
        fmt = fmt or guess_format(path)
        return load_students(path, fmt), fmt
    except (ValueError, FileNotFoundError, OSError) as e:
        if isinstance(e, OSError) and not isinstance(e, FileNotFoundError):
            raise CLIError(f"cannot read {path}: {e.strerror or e}") from None
        raise CLIError(str(e)) from None


def _students(args):
    """(train, test, format): whole students, before windows; synthetic data keeps its true concepts. A --test
    file is read on its own and both are renumbered over the union of their questions (``align_questions``):
    a test file may ask a question the training file never does."""
    from ..knowledge import align_questions, held_out, synthetic_5
    if args.data.lower() == "synthetic-5":
        if args.test:
            raise CLIError("--test needs --data PATH (synthetic-5 comes with its own 2,000 test students)")
        train, test = synthetic_5(args.seed)
        return train, test, "synthetic"
    train, fmt = _read_students(args.data, args.format)
    if args.test:
        test, _ = _read_students(args.test, args.format, option="--test")    # each file's own format
        train, test = align_questions(train, test)
    else:
        train = train.drop_short(2)
        if len(train) < 2:
            raise CLIError(f"{args.data}: {len(train)} student(s) with 2 or more answers; a train/test split needs "
                           "at least 2 (or give --test PATH)")
        train_idx, test_idx = held_out(train, seed=args.seed)
        train, test = train[train_idx], train[test_idx]
    return train, test, fmt


def _adjusted_rand(truth, labels):
    try:
        from sklearn.metrics import adjusted_rand_score
    except ImportError:
        log("thetas dkt: concept_ari needs scikit-learn (pip install \"thetas[data]\"); left out")
        return None
    return float(adjusted_rand_score(truth, labels))


def _check(args):
    """Every option, before any data loads or training starts: one line naming the option and its value."""
    import math
    if args.format is not None and args.format not in DKT_FORMATS:
        raise CLIError(f"unknown --format {args.format!r}; choose {' or '.join(DKT_FORMATS)}")
    for flag, value, low in (("--hidden", args.hidden, 1), ("--epochs", args.epochs, 1),
                             ("--batch-size", args.batch_size, 1), ("--seed", args.seed, 0),
                             ("--max-len", args.max_len, 2), ("--concepts", args.concepts, 2),
                             ("--samples", args.samples, 1)):
        if value is not None and value < low:
            why = {"--max-len": " (a prediction needs a next answer)",
                   "--concepts": " (the number of concept clusters)"}.get(flag, "")
            raise CLIError(f"{flag} must be at least {low}{why}, got {value}")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise CLIError(f"--lr must be > 0, got {args.lr}")
    if not 0 <= args.dropout < 1:
        raise CLIError(f"--dropout must be in [0, 1), got {args.dropout}")
    for flag, path in (("--data", args.data), ("--test", args.test)):
        if path is not None and os.path.isdir(path):
            raise CLIError(f"{flag} {path}: is a folder; give a file of students' answers")
        if path is not None and not (flag == "--data" and path.lower() == "synthetic-5") and \
                not os.path.isfile(path):
            raise CLIError(f"{flag} {path}: no such file" + (" (--data takes synthetic-5 or a file of students' "
                                                             "answers)" if flag == "--data" else ""))
    if args.save:
        check_writable("--save", args.save)
    if args.plot:
        pyplot()                                          # headless, or the CLIError that says to install it
        check_writable("--plot", args.plot, folder_ok=True)
    if args.plot or args.concepts is not None:
        import importlib.util
        if importlib.util.find_spec("sklearn") is None:
            raise CLIError(f"{'--plot' if args.plot else '--concepts'} needs scikit-learn (the questions' clusters): "
                           'pip install "thetas[data]"')


def run(args):
    from ..io import save
    from ..knowledge import DKT, check_resume, optimal_auc, train_dkt
    from ..knowledge.students import unseen
    from ..train import Checkpoint, CheckpointError

    given = dict(vars(args))  # the options as typed, for the resume hint after a Ctrl-C
    set_threads(args)
    _check(args)
    path = checkpoint_paths(args)
    train, test, fmt = _students(args)
    if args.samples is not None:                                     # a quick run: the first N of each set
        train, test = train[:args.samples], test[:args.samples]
    train, test = train.drop_short(2), test.drop_short(2)
    for name, s in (("training", train), ("test", test)):
        if len(s) == 0:
            raise CLIError(f"the {name} set has no student with 2 or more answers: nothing to learn or score")
    M = train.num_questions
    if args.concepts is not None and args.concepts > M:
        raise CLIError(f"--concepts {args.concepts} is more than the {M} questions")
    try:
        model = DKT(M, args.hidden, cell=args.cell, dropout=args.dropout, generator=args.seed)
    except ValueError as e:
        raise CLIError(str(e)) from None
    source = "synthetic-5" if fmt == "synthetic" else args.data
    recipe = dict(lr=args.lr, batch_size=args.batch_size, max_len=args.max_len, seed=args.seed,
                  schedule=args.schedule)
    real = lambda p: p if p is None or p == "synthetic-5" else os.path.realpath(p)   # noqa: E731  one file, one name
    ckpt = Checkpoint(path, config={"data": real(source), "test": real(args.test), "format": fmt,
                                    "samples": args.samples, "seed": args.seed}) if path else None
    if args.resume:
        try:                                              # before any output: the error is the only line
            check_resume(args.resume, train, test, model=DKT(M, args.hidden, cell=args.cell, dropout=args.dropout,
                                                             generator=args.seed), config=ckpt.config,
                         epochs=args.epochs, **recipe)
        except (CheckpointError, ValueError) as e:
            raise CLIError(str(e)) from None
    log(f"thetas: DKT ({args.cell}, {args.hidden} hidden) {model.num_parameters():,} parameters on {source}: "
        f"{M} questions, {len(train)} train / {len(test)} test students, Adam lr {args.lr}")
    trained = resumable(lambda: train_dkt(train, test, model=model, epochs=args.epochs, verbose=not args.quiet,
                                          checkpoint=ckpt, resume=args.resume, **recipe),
                        "dkt", add_parser, given, path)
    if trained is None:
        return INTERRUPTED
    train_m, test_m = trained.metrics["train"], trained.metrics["test"]
    if len(test) < 10 or test_m["auc"] is None:           # an AUC ranks answers of many students: a few say little
        log(f"thetas dkt: warning: {len(test)} test student(s)" + (": the AUC is undefined (every scored answer is "
            "right, or every one wrong)" if test_m["auc"] is None else ": the AUC says little about other students"))

    result = {"data": source, "format": fmt, "cell": args.cell, "hidden": args.hidden,
              "parameters": model.num_parameters(), "questions": M,
              "students": {"train": len(train), "test": len(test)}, "sequences": trained.sequences}
    if args.test:                      # counted on the students kept (--samples, 2 or more answers)
        questions, answers = unseen(train, test)
        result["test_unseen"] = {"questions": questions, "answers": answers}
        if answers:
            log(f"thetas dkt: {answers} of the test file's answers ask {questions} "
                "question(s) the training file never has: the network learned nothing about those")
    result.update({f"test_{k}": None if v is None else round(v, 6) for k, v in test_m.items()})
    result.update({f"train_{k}": None if v is None else round(v, 6) for k, v in train_m.items()})
    if fmt == "synthetic":
        result["optimal_test_auc"] = round(optimal_auc(test), 6)
    result.update(epochs=len(trained.history.epoch), seconds=round(trained.seconds, 3))
    labels = None
    if args.concepts is not None:
        from ..knowledge import cluster_questions
        try:
            labels = np.asarray(cluster_questions(model, args.concepts, students=train, seed=args.seed))
        except ImportError:
            raise CLIError('--concepts needs scikit-learn (spectral clustering): pip install "thetas[data]"') from None
        result["concepts"] = [int(v) for v in labels]
        if train.concepts is not None:
            ari = _adjusted_rand(train.concepts, labels)
            if ari is not None:
                result["concept_ari"] = round(ari, 6)
    result["peak_memory_mb"] = peak_memory_mb()
    if getattr(trained.history, "stopped_reason", None):
        result["stopped_reason"] = trained.history.stopped_reason
    if args.save:
        meta = {"command": "dkt", "data": source, "format": fmt, "test": args.test, "seed": args.seed,
                "cell": args.cell, "hidden": args.hidden, "max_len": args.max_len, "questions": M,
                "question_names": list(train.question_names or map(str, range(M)))}
        if labels is not None:
            meta["concepts"] = result["concepts"]
        try:
            save(model, args.save, metadata=meta)
        except OSError as e:
            raise CLIError(f"cannot write {args.save}: {e.strerror or e}") from None
        result["saved"] = args.save
    if args.plot:
        from ..knowledge.plots import save_dkt_plots
        pyplot()                                          # headless, or the CLIError that says to install it
        try:
            result["plot"] = save_dkt_plots(args.plot, trained.history, model, train, test, labels, args.seed)
        except ImportError:
            raise CLIError('--plot needs scikit-learn to group the questions: pip install "thetas[data]"') from None
    auc = "n/a" if test_m["auc"] is None else f"{test_m['auc']:.4f}"
    summary = [f"test AUC {auc}", f"accuracy {test_m['accuracy']:.4f}"]
    if "optimal_test_auc" in result:
        summary.append(f"(optimal AUC {result['optimal_test_auc']:.4f})")
    if "concept_ari" in result:
        summary.append(f"concept ARI {result['concept_ari']:.3f}")
    epochs = f"{result['epochs']} epoch{'s' * (result['epochs'] != 1)}"
    report(args, result, summary + [epochs, f"{trained.seconds:.1f} s"])
    return 0
