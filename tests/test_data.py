"""th.data: datasets, loaders, splits, the toy sets, digits, CSV files, the registry, and Standardize."""
import numpy as np
import pytest

import thetas as th
from thetas.data import (DATASETS, FOUR_PIXEL_CLASSES, ArrayDataset, DataLoader, Task, circles, digits,
                         four_pixels, from_csv, gaussians, load, moons, random_split, spiral, train_test_split, xor)

TOYS = [xor, circles, spiral, moons, gaussians]


def _epoch(loader):
    return list(loader)


# ---------------------------------------------------------------------- ArrayDataset
def test_array_dataset_dtypes_and_items():
    X = np.arange(12, dtype=np.float64).reshape(6, 2)
    ds = ArrayDataset(X, np.array([0, 1, 0, 1, 0, 1], np.int32))
    assert ds.X.dtype == np.float32 and ds.y.dtype == np.int64 and len(ds) == 6
    x3, y3 = ds[3]
    assert np.array_equal(x3, [6, 7]) and y3 == 1
    assert ArrayDataset(X, dtype=np.float64).X.dtype == np.float64
    assert ArrayDataset(X, np.linspace(0, 1, 6)).y.dtype == np.float64    # regression targets as given
    assert ArrayDataset(np.zeros((3, 2), np.uint8)).X.dtype == np.uint8   # integer inputs are not cast
    with pytest.raises(ValueError, match="6 examples but y has 5"):
        ArrayDataset(X, np.zeros(5))


def test_subset_keeps_dtype_and_attributes():
    ds = ArrayDataset(np.ones((5, 2)), np.arange(5), dtype=np.float64)
    ds.classes = ("a", "b")
    sub = ds.subset([4, 0])
    assert sub.X.dtype == np.float64 and list(sub.y) == [4, 0] and sub.classes == ("a", "b")


# ---------------------------------------------------------------------- DataLoader
def test_loader_covers_every_sample_once_per_epoch_in_batches():
    X = np.arange(103, dtype=np.float32)[:, None]
    loader = DataLoader(ArrayDataset(X, np.arange(103)), batch_size=10, shuffle=True, seed=0)
    assert len(loader) == 11
    for _ in range(3):
        batches = _epoch(loader)
        assert [len(xb) for xb, _ in batches] == [10] * 10 + [3]
        ys = np.concatenate([yb for _, yb in batches])
        xs = np.concatenate([xb for xb, _ in batches])
        assert sorted(ys) == list(range(103))
        assert np.array_equal(xs[:, 0], ys)      # x and y stay paired


def test_loader_without_shuffle_is_in_order():
    X = np.arange(10, dtype=np.float32).reshape(5, 2)
    batches = _epoch(DataLoader((X, np.arange(5)), batch_size=2))   # a tuple (X, y) works as a dataset
    assert [list(yb) for _, yb in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_shuffle_differs_between_epochs_and_repeats_with_the_seed():
    ds = ArrayDataset(np.zeros((50, 1)), np.arange(50))

    def orders(seed, epochs=3):
        loader = DataLoader(ds, batch_size=50, shuffle=True, seed=seed)
        return [_epoch(loader)[0][1].tolist() for _ in range(epochs)]

    a, b, c = orders(7), orders(7), orders(8)
    assert a == b                                 # reproducible from the seed
    assert a[0] != a[1] != a[2] and a[0] != a[2]  # a fresh order every epoch
    assert a[0] != c[0]
    assert a[0] != list(range(50))


def test_drop_last():
    ds = ArrayDataset(np.zeros((10, 3)), np.arange(10))
    loader = DataLoader(ds, batch_size=4, shuffle=True, seed=0, drop_last=True)
    batches = _epoch(loader)
    assert len(loader) == len(batches) == 2 and all(len(yb) == 4 for _, yb in batches)
    assert len(set(np.concatenate([yb for _, yb in batches]))) == 8
    assert len(DataLoader(ds, batch_size=4)) == 3 and len(DataLoader(ds, batch_size=20, drop_last=True)) == 0


def test_generic_dataset_path_stacks_samples():
    class Squares:
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return np.array([i, i * i], np.float32), i % 2

    loader = DataLoader(Squares(), batch_size=3, shuffle=True, seed=1)
    batches = _epoch(loader)
    assert len(loader) == len(batches) == 3
    xs = np.concatenate([xb for xb, _ in batches])
    ys = np.concatenate([yb for _, yb in batches])
    assert xs.shape == (7, 2) and sorted(xs[:, 0]) == list(range(7))
    assert np.array_equal(xs[:, 1], xs[:, 0] ** 2) and np.array_equal(ys, xs[:, 0].astype(int) % 2)
    assert [list(xb[:, 0]) for xb, _ in DataLoader(Squares(), batch_size=4)] == [[0, 1, 2, 3], [4, 5, 6]]


def test_loader_rejects_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader((np.zeros((4, 1)), np.zeros(4)), batch_size=0)
    with pytest.raises(TypeError, match="__getitem__"):
        DataLoader(42)


def test_loader_feeds_fit():
    X, y = gaussians(n_samples=200, noise=0.0, seed=0)
    model = th.nn.Linear(2, 2, generator=0)
    opt = th.optim.SGD(model.parameters(), lr=0.5)
    th.fit(model, th.losses.cross_entropy, opt, DataLoader((X, y), batch_size=20, shuffle=True, seed=0),
           epochs=20, metrics=(), verbose=False)
    with th.no_grad():
        assert np.mean(model(X).numpy().argmax(1) == y) > 0.9


# ---------------------------------------------------------------------- splits
def test_random_split_sizes_disjoint_and_seeded():
    ds = ArrayDataset(np.arange(101, dtype=np.float32)[:, None], np.arange(101))
    a, b, c = random_split(ds, [0.6, 0.3, 0.1], seed=3)
    assert (len(a), len(b), len(c)) == (61, 30, 10)
    ids = [set(part.y.tolist()) for part in (a, b, c)]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2]) and set.union(*ids) == set(range(101))
    assert all(isinstance(p, ArrayDataset) for p in (a, b, c))
    assert np.array_equal(random_split(ds, [60, 41], seed=3)[0].y, random_split(ds, [60, 41], seed=3)[0].y)
    assert not np.array_equal(random_split(ds, [60, 41], seed=3)[0].y, random_split(ds, [60, 41], seed=4)[0].y)
    with pytest.raises(ValueError, match="101"):
        random_split(ds, [50, 50])
    pairs = [(np.float32(i), i % 3) for i in range(9)]     # any dataset with __getitem__ / __len__
    parts = random_split(pairs, [6, 3], seed=0)
    assert [len(p) for p in parts] == [6, 3] and np.array_equal(parts[0].X.astype(int) % 3, parts[0].y)


def test_train_test_split_is_fixed_and_stratified():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    X = np.arange(100)[:, None]
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, seed=0)
    assert len(Xte) == 20 and len(Xtr) == 80
    assert np.bincount(yte).tolist() == [12, 6, 2]                       # every class keeps its share
    assert np.array_equal(y[Xtr[:, 0]], ytr) and not set(Xtr[:, 0]) & set(Xte[:, 0])
    again = train_test_split(X, y, test_size=0.2, seed=0)
    assert np.array_equal(again[1], Xte)
    assert not np.array_equal(train_test_split(X, y, test_size=0.2, seed=1)[1], Xte)
    # a float (regression) target is split plainly, never into one "class" per value
    assert len(train_test_split(X, np.linspace(0, 1, 100), test_size=0.25)[1]) == 25
    assert len(train_test_split(X, y, test_size=10, stratify=False)[1]) == 10       # a count, like sklearn
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(X, y, test_size=1.5)


# ---------------------------------------------------------------------- toy sets
@pytest.mark.parametrize("make", TOYS, ids=lambda f: f.__name__)
def test_toy_sets_shapes_dtypes_balance_and_seeds(make):
    X, y = make(n_samples=301, seed=5)
    assert X.shape == (301, 2) and X.dtype == np.float32 and y.shape == (301,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == 2 and abs(counts[0] - counts[1]) <= 1
    X2, y2 = make(n_samples=301, seed=5)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, make(n_samples=301, seed=6)[0])
    assert not np.all(y[:150] == y[0])         # rows are shuffled, not sorted by class


def _best_line_accuracy(X, y, lines=2000, seed=0):
    """The best accuracy of many random lines w·x + b > 0 (either orientation): a linear classifier, no sklearn."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(lines, 2))
    b = rng.uniform(-1.5, 1.5, lines)
    pred = (X @ w.T + b) > 0                      # (N, lines)
    acc = (pred == y[:, None].astype(bool)).mean(0)
    return float(np.maximum(acc, 1 - acc).max())


def test_xor_is_not_linearly_separable_but_its_quadrants_are_its_labels():
    X, y = xor(n_samples=400, noise=0.0, seed=0)
    assert np.array_equal(y, (np.sign(X[:, 0]) * np.sign(X[:, 1]) < 0))
    assert np.all(np.abs(X) >= 0.1) and np.all(np.abs(X) <= 1.1)
    assert _best_line_accuracy(X, y) < 0.8
    blobs, labels = gaussians(n_samples=400, noise=0.0, seed=0)
    assert _best_line_accuracy(blobs, labels) > 0.9   # the check can tell a separable set


def test_circles_moons_spiral_have_their_structure():
    X, y = circles(n_samples=400, noise=0.0, factor=0.5, seed=0)
    r = np.linalg.norm(X, axis=1)
    assert np.allclose(r[y == 0], 1, atol=1e-5) and np.allclose(r[y == 1], 0.5, atol=1e-5)
    assert _best_line_accuracy(X, y) < 0.8

    X, y = moons(n_samples=400, noise=0.0, seed=0)
    assert np.allclose(np.linalg.norm(X[y == 0], axis=1), 1, atol=1e-5) and np.all(X[y == 0, 1] >= -1e-6)
    assert np.allclose(np.linalg.norm(X[y == 1] - [1, 0.5], axis=1), 1, atol=1e-5)

    X, y = spiral(n_samples=300, noise=0.0, classes=3, seed=0)
    assert np.bincount(y).tolist() == [100, 100, 100] and np.linalg.norm(X, axis=1).max() <= 1 + 1e-6
    assert _best_line_accuracy(*spiral(n_samples=400, noise=0.0, seed=0)) < 0.8

    X, y = gaussians(n_samples=300, noise=0.0, classes=3, seed=0)
    centres = np.array([X[y == k].mean(0) for k in range(3)])
    assert np.allclose(np.linalg.norm(centres, axis=1), 1, atol=0.15)


def test_toy_arguments_are_checked():
    with pytest.raises(ValueError, match="noise"):
        xor(noise=-1)
    with pytest.raises(ValueError, match="n_samples"):
        spiral(n_samples=2, classes=3)


def test_four_pixels_is_every_patterned_image_two_per_class():
    X, y = four_pixels()
    assert X.shape == (8, 4) and X.dtype == np.float32 and y.dtype == np.int64
    assert FOUR_PIXEL_CLASSES == ("solid", "vertical", "diagonal", "horizontal")
    assert np.bincount(y).tolist() == [2, 2, 2, 2] and set(np.unique(X)) == {-1.0, 1.0}
    assert len({tuple(x) for x in X}) == 8
    for x, label in zip(X, y):
        (tl, tr), (bl, br) = x.reshape(2, 2)       # row-major: the top row first
        expected = {"solid": tl == tr == bl == br,
                    "vertical": tl == bl and tr == br and tl != tr,
                    "diagonal": tl == br and tr == bl and tl != tr,
                    "horizontal": tl == tr and bl == br and tl != bl}
        assert [k for k, v in expected.items() if v] == [FOUR_PIXEL_CLASSES[label]]
    # the other 8 of the 16 possible images show none of the patterns
    assert 16 - len(X) == 8


# ---------------------------------------------------------------------- digits
def test_digits_sizes_range_and_fixed_split():
    pytest.importorskip("sklearn")
    train, test = digits()
    assert len(train) + len(test) == 1797 and len(test) == 450
    assert train.X.shape[1] == 64 and train.X.dtype == np.float32 and train.y.dtype == np.int64
    assert train.X.min() == 0 and train.X.max() == 1
    assert train.classes == tuple(range(10)) and np.bincount(test.y).min() >= 44   # stratified: ~18 % each
    again_train, again_test = digits()
    assert np.array_equal(again_test.X, test.X) and np.array_equal(again_train.y, train.y)
    assert not np.array_equal(digits(seed=1)[1].y, test.y)


def test_digits_one_vs_two_remaps_in_the_given_order():
    sklearn = pytest.importorskip("sklearn.datasets")
    bunch = sklearn.load_digits()
    train, test = digits(classes=(2, 1))
    assert len(train) + len(test) == np.isin(bunch.target, (1, 2)).sum()
    assert train.classes == (2, 1) and set(train.y) == {0, 1}
    ones = bunch.data[bunch.target == 1] / 16
    # label 1 means the digit 1: each such training image is one of sklearn's 1s
    x = train.X[train.y == 1][0]
    assert np.any(np.all(np.isclose(ones, x), axis=1))
    with pytest.raises(ValueError, match="digits"):
        digits(classes=(1, 11))


# ---------------------------------------------------------------------- CSV
def _write(path, text):
    path.write_text(text)
    return path


def test_csv_classification_text_labels_and_standardize(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2)) * [10, 0.1] + [5, -3]
    labels = np.where(X[:, 0] > 5, "cat", "dog")
    f = _write(tmp_path / "pets.csv", "weight,length,kind\n" + "".join(
        f"{a},{b},{c}\n" for (a, b), c in zip(X, labels)))
    train, test = from_csv(f, "kind", seed=0)
    assert len(train) == 30 and len(test) == 10 and train.task == "classification"
    assert train.classes == ("cat", "dog") and train.y.dtype == np.int64
    assert train.feature_names == ("weight", "length") and train.target_name == "kind"
    rows = {tuple(np.round(x, 4)) for x in X.astype(np.float32)}
    assert all(tuple(np.round(x, 4)) in rows for x in train.X)       # the arrays are NOT standardised
    pre = train.preprocess
    assert isinstance(pre, th.nn.Standardize) and test.preprocess is pre
    assert np.allclose(pre.mean.numpy(), train.X.mean(0), atol=1e-4)
    assert np.allclose(pre.std.numpy(), train.X.std(0), rtol=1e-4)
    z = pre(train.X).numpy()
    assert np.allclose(z.mean(0), 0, atol=1e-4) and np.allclose(z.std(0), 1, atol=1e-3)


def test_csv_integer_and_regression_targets(tmp_path):
    body = "".join(f"{i},{i * 0.5},{[3, 10, 7][i % 3]}\n" for i in range(30))
    train, test = from_csv(_write(tmp_path / "ints.csv", "a,b,y\n" + body), "y")
    assert train.task == "classification" and train.classes == (3, 7, 10)   # numeric order, not "10" < "3"
    row = train.X[:, 0].astype(int)
    assert np.array_equal(np.asarray(train.classes)[train.y], np.array([3, 10, 7])[row % 3])
    reg = "".join(f"{i},{i % 4},{i * 1.5 + 0.25}\n" for i in range(20))
    train, test = from_csv(_write(tmp_path / "reg.csv", "x1,x2,price\n" + reg), "price", test_size=0.2)
    assert train.task == "regression" and train.classes is None and train.y.dtype == np.float32
    assert len(train) == 16 and np.allclose(train.y, train.X[:, 0] * 1.5 + 0.25)
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "ints.csv").read_bytes())  # Excel's BOM
    assert from_csv(tmp_path / "bom.csv", "y")[0].feature_names == ("a", "b")
    forced, _ = from_csv(tmp_path / "ints.csv", "y", task="regression")
    assert forced.task == "regression" and set(forced.y.tolist()) <= {3.0, 7.0, 10.0}


def test_csv_errors_name_the_file_row_and_column(tmp_path):
    f = _write(tmp_path / "bad.csv", "a,b,label\n1,2,0\n\n3,oops,1\n")
    with pytest.raises(ValueError) as e:
        from_csv(f, "label")
    assert "bad.csv" in str(e.value) and "row 4" in str(e.value) and "'b'" in str(e.value) and "oops" in str(e.value)
    f = _write(tmp_path / "empty.csv", "a,b,label\n1,2,0\n3,,1\n")
    with pytest.raises(ValueError, match=r"empty.csv, row 3, column 'b': is empty"):
        from_csv(f, "label")
    with pytest.raises(ValueError, match=r"no target column 'price'; the columns are a, b, label"):
        from_csv(f, "price")
    with pytest.raises(ValueError, match="header"):
        from_csv(_write(tmp_path / "noheader.csv", "1,2,3\n4,5,6\n"), "3")
    with pytest.raises(ValueError, match="row 2: has 2 cells"):
        from_csv(_write(tmp_path / "short.csv", "a,b,label\n1,2\n"), "label")
    with pytest.raises(ValueError, match="'a' twice"):
        from_csv(_write(tmp_path / "twice.csv", "a,a,label\n1,2,0\n"), "label")
    with pytest.raises(FileNotFoundError, match="nothere.csv"):
        from_csv(tmp_path / "nothere.csv", "label")


# ---------------------------------------------------------------------- Standardize
def test_standardize_forward_state_dict_and_config():
    pre = th.nn.Standardize(np.array([1.0, 2.0, 3.0]), np.array([2.0, 0.0, 4.0]))
    out = pre(np.array([[3.0, 5.0, -1.0]], np.float32))
    assert np.allclose(out.numpy(), [[1.0, 3.0, -1.0]])               # std 0 is taken as 1
    state = pre.state_dict()
    assert set(state) == {"mean", "std"} and np.allclose(state["std"], [2, 1, 4])
    assert pre.parameters() == [] and "features=3" in repr(pre)
    config = pre.config()
    assert config["args"] == [[1.0, 2.0, 3.0], [2.0, 0.0, 4.0]]      # JSON, even from arrays
    rebuilt = th.nn.build(config)
    assert np.allclose(rebuilt(np.ones((2, 3))).numpy(), pre(np.ones((2, 3))).numpy())
    with pytest.raises(ValueError, match="expected 3 features"):
        pre(np.ones((2, 4)))
    with pytest.raises(ValueError, match="mean has 2 features but std has 3"):
        th.nn.Standardize([0, 0], [1, 1, 1])


def test_standardize_passes_gradients_and_saves_with_the_model(tmp_path):
    pre = th.nn.Standardize([1.0, -1.0], [2.0, 0.5])
    x = th.tensor(np.array([[0.5, 1.5]]), requires_grad=True)
    pre(x).sum().backward()
    assert np.allclose(x.grad, [[0.5, 2.0]])                            # dy/dx = 1 / std
    model = th.nn.Sequential(pre, th.nn.Linear(2, 1, generator=0))
    path = tmp_path / "m.safetensors"
    th.save(model, str(path))
    loaded = th.load(str(path))
    assert np.allclose(loaded[0].mean.numpy(), [1, -1]) and np.allclose(loaded[0].std.numpy(), [2, 0.5])
    X = np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32)
    assert np.allclose(loaded(X).numpy(), model(X).numpy())


# ---------------------------------------------------------------------- registry
@pytest.mark.parametrize("name", [n for n in DATASETS if "mnist" not in n])  # MNIST sets: tests/test_mnist.py
def test_registry_loads_every_name(name):
    if name.startswith("digits"):
        pytest.importorskip("sklearn")
    task = load(name, seed=0)
    assert isinstance(task, Task) and task.task == "classification" and task.preprocess is None
    assert task.train.X.shape[1] == task.num_features and task.test.X.shape[1] == task.num_features
    assert task.num_classes == len(task.classes) == len(np.unique(task.train.y))
    assert task.train.y.max() == task.num_classes - 1
    if name == "four-pixels":
        assert task.train is task.test and len(task.train) == 8 and task.classes == FOUR_PIXEL_CLASSES
    elif name in ("digits", "digits-1v2"):
        assert task.num_features == 64 and task.num_classes == (10 if name == "digits" else 2)
    else:
        assert (len(task.train), len(task.test)) == (300, 100) and np.bincount(task.test.y).tolist() == [50, 50]
        again = load(name, seed=0)
        assert np.array_equal(again.test.X, task.test.X)


def test_registry_options_csv_and_unknown_names(tmp_path):
    assert len(load("spiral", n_samples=80, noise=0.0).train) == 60
    assert not np.array_equal(load("moons", seed=1).train.X, load("moons", seed=2).train.X)
    f = _write(tmp_path / "d.csv", "u,v,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(12)))
    task = load(str(f), target="y")
    assert task.num_features == 2 and task.num_classes == 2 and task.feature_names == ("u", "v")
    assert isinstance(task.preprocess, th.nn.Standardize)
    with pytest.raises(ValueError, match="target"):
        load(str(f))
    with pytest.raises(ValueError) as e:
        load("no-such-set")
    assert "no-such-set" in str(e.value) and all(n in str(e.value) for n in DATASETS)


def test_csv_hostile_cells_name_the_file(tmp_path):
    from thetas.data import from_csv
    path = tmp_path / "h.csv"
    _write(path, "a,b,y\n1,2,0\n3," + "9" * 200_000 + ",1\n")
    with pytest.raises(ValueError, match=r"h.csv, line 3: not a CSV row.*field larger than field limit"):
        from_csv(path, "y")
    path.write_bytes(b"a,b,y\n1,2,0\n3,4,\xff\xfe\n")
    with pytest.raises(ValueError, match=r"h.csv, line 3: not UTF-8 text \(byte b'\\xff' at offset 16\)"):
        from_csv(path, "y")
    rows = "".join(f"{v},{i},{i % 2}\n" for i, v in enumerate(["1e300", "-1e300", "2", "3", "4", "5", "6", "7"]))
    _write(path, "big,b,y\n" + rows)
    with pytest.raises(ValueError, match="h.csv, column 'big': values too large for float32"):
        from_csv(path, "y")
    _write(path, "a,y\n" + "".join(f"{i},{v}\n" for i, v in enumerate(["1e300", "2", "3", "4", "5", "6"])))
    with pytest.raises(ValueError, match="h.csv, column 'y': values too large"):
        from_csv(path, "y", task="regression")
    train, test = from_csv(path, "y", task="classification", test_size=0.0)   # labels 1e300, 2, ...: distinct
    assert len(train.classes) == 6 and 1e300 in train.classes


@pytest.mark.parametrize("make", [th.data.plane, th.data.bumps])
def test_regression_sets_give_a_number_in_minus_one_one_per_point(make):
    X, t = make(n_samples=1000, noise=0.0, seed=3)
    assert X.shape == (1000, 2) and X.dtype == np.float32 and t.shape == (1000,) and t.dtype == np.float32
    assert np.abs(X).max() <= 1.8 and np.abs(t).max() <= 1
    X2, t2 = make(n_samples=1000, noise=0.0, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(t, t2)
    if make is th.data.plane:                        # noise 0: exactly (x₁ + x₂) / 3.6
        assert np.allclose(t, (X[:, 0] + X[:, 1]) / 3.6, atol=1e-6)
    else:                                            # each bump's sign at its centre
        from thetas.data.toy import BUMPS
        for a, b, sign in BUMPS:
            near = np.hypot(X[:, 0] - a, X[:, 1] - b) < 0.3
            assert near.any() and np.all(np.sign(t[near]) == sign)
    noisy = make(n_samples=1000, noise=0.3, seed=3)[1]
    assert 0.05 < np.std(noisy - t) < 0.2
    with pytest.raises(ValueError, match="noise"):
        make(noise=-1)
