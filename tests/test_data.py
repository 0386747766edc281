"""Tests for rbmtut.data: the four MNIST sources, binarisation, toy sets, batching.

No test touches the internet: downloads are served by a local HTTP server.
"""

import hashlib
import http.server
import io
import os
import socket
import threading
import time

import numpy as np
import pytest

from rbmtut import data
import make_mnist_subset  # tests/make_mnist_subset.py, which derived the embedded subset

# Read before the isolation fixture clears it: used only by the provenance test.
_REAL_DATA_DIR = os.environ.get("RBMTUT_DATA_DIR")


def _fake_mnist(n_train=20, n_test=10, seed=0, **overrides):
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": (np.arange(n_test) % 10).astype(np.uint8),
    }
    arrays.update(overrides)
    return {k: v for k, v in arrays.items() if v is not None}


def _npz_bytes(arrays):
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _write_npz(path, arrays):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_npz_bytes(arrays))
    return path


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Point every MNIST source at empty temporary folders; downloads off."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("RBMTUT_DATA_DIR", raising=False)
    monkeypatch.delenv("RBMTUT_MNIST_URL", raising=False)
    monkeypatch.setenv("RBMTUT_OFFLINE", "1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return tmp_path


@pytest.fixture
def server():
    """A local HTTP server; put bytes in ``server.files[path]`` to serve them."""
    files, release = {}, threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + (100 if body == b"STALL" else 0)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            if body == b"STALL":  # promise more bytes, then go silent
                release.wait(10)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    httpd.files = files
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    release.set()
    httpd.shutdown()
    httpd.server_close()


def _cache_dir(tmp_path):
    return tmp_path / "keras" / "datasets"


def _embedded(result):
    return result.source.startswith("embedded subset")


# --- tiers 1 and 2 -------------------------------------------------------------------------

def test_env_dir_tier(tmp_path, monkeypatch, capsys):
    arrays = _fake_mnist()
    path = _write_npz(tmp_path / "d" / "mnist.npz", arrays)
    monkeypatch.setenv("RBMTUT_DATA_DIR", str(path.parent))
    result = data.load_mnist()
    assert result.source == "RBMTUT_DATA_DIR ($RBMTUT_DATA_DIR/mnist.npz)"
    assert capsys.readouterr().out == f"MNIST: {result.source}\n"
    for key in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(result, key), arrays[key])
        assert getattr(result, key).dtype == np.uint8


def test_sources_never_name_this_machines_paths(tmp_path, monkeypatch):
    """The source lands in the published book: it names settings, not folders."""
    path = _write_npz(tmp_path / "d" / "mnist.npz", _fake_mnist())
    monkeypatch.setenv("RBMTUT_DATA_DIR", str(path.parent))
    assert str(tmp_path) not in data.load_mnist(verbose=False).source
    monkeypatch.delenv("RBMTUT_DATA_DIR")
    _write_npz(_cache_dir(tmp_path) / "mnist.npz", _fake_mnist())
    assert str(tmp_path) not in data.load_mnist(verbose=False).source


def test_data_dir_argument_beats_env_and_cache(tmp_path, monkeypatch):
    _write_npz(tmp_path / "env" / "mnist.npz", _fake_mnist(seed=1))
    _write_npz(_cache_dir(tmp_path) / "mnist.npz", _fake_mnist(seed=2))
    arg = _write_npz(tmp_path / "arg" / "mnist.npz", _fake_mnist(n_train=30))
    monkeypatch.setenv("RBMTUT_DATA_DIR", str(tmp_path / "env"))
    result = data.load_mnist(data_dir=arg.parent, verbose=False)
    assert result.source == "data_dir (<data_dir>/mnist.npz)"
    assert result.x_train.shape == (30, 28, 28)


def test_env_dir_without_file_falls_through_to_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RBMTUT_DATA_DIR", str(tmp_path / "empty"))
    cache = _write_npz(_cache_dir(tmp_path) / "mnist.npz", _fake_mnist())
    result = data.load_mnist()
    assert result.source == "Keras cache ($KERAS_HOME/datasets/mnist.npz)"
    assert "does not exist" in capsys.readouterr().out


def test_keras_cache_path_follows_keras_home_then_home(tmp_path, monkeypatch):
    assert data.keras_cache_path() == str(_cache_dir(tmp_path) / "mnist.npz")
    monkeypatch.delenv("KERAS_HOME")
    assert data.keras_cache_path() == str(tmp_path / "home" / ".keras" / "datasets" / "mnist.npz")


def test_keras_cache_tier_under_home(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME")
    cache = _write_npz(tmp_path / "home" / ".keras" / "datasets" / "mnist.npz", _fake_mnist())
    result = data.load_mnist(verbose=False)
    assert result.source == "Keras cache (~/.keras/datasets/mnist.npz)"
    assert result.y_test.shape == (10,)


@pytest.mark.parametrize("content, problem", [
    (b"this is not a zip file at all", "not an .npz"),
    (_npz_bytes(_fake_mnist(y_test=None)), "missing key"),
    (_npz_bytes(_fake_mnist(x_train=np.zeros((20, 784), np.uint8))), "shape"),
    (_npz_bytes(_fake_mnist(y_train=np.zeros(19, np.uint8))), "shape"),
    (_npz_bytes(_fake_mnist(x_test=np.zeros((10, 28, 28), np.float32))), "uint8"),
    (_npz_bytes(_fake_mnist(y_test=np.full(10, 10, np.uint8))), "0..9"),
])
def test_corrupt_cache_file_is_an_error(tmp_path, content, problem):
    cache = _cache_dir(tmp_path) / "mnist.npz"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(content)
    with pytest.raises(ValueError, match=problem) as info:
        data.load_mnist(verbose=False)
    assert str(cache) in str(info.value)
    assert "Delete or replace" in str(info.value)


def test_corrupt_env_file_is_an_error_not_skipped(tmp_path, monkeypatch):
    bad = tmp_path / "d" / "mnist.npz"
    bad.parent.mkdir()
    bad.write_bytes(b"PK\x03\x04 truncated zip")
    _write_npz(_cache_dir(tmp_path) / "mnist.npz", _fake_mnist())  # valid, must not be used
    monkeypatch.setenv("RBMTUT_DATA_DIR", str(bad.parent))
    with pytest.raises(ValueError, match="not"):
        data.load_mnist(verbose=False)


# --- tier 3: download ----------------------------------------------------------------------

def _no_leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_success_is_atomic(tmp_path, monkeypatch, server):
    monkeypatch.delenv("RBMTUT_OFFLINE")
    arrays = _fake_mnist(n_train=40)
    body = _npz_bytes(arrays)
    server.files["/mnist.npz"] = body
    url = server.url + "/mnist.npz"
    replaced = []
    real_replace = os.replace

    def spy(src, dst):
        replaced.append((src, dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    result = data.load_mnist(url=url, sha256=hashlib.sha256(body).hexdigest(), verbose=False)
    cache = _cache_dir(tmp_path) / "mnist.npz"
    assert result.source == f"download ({url})"
    np.testing.assert_array_equal(result.x_train, arrays["x_train"])
    assert cache.read_bytes() == body
    assert _no_leftovers(cache.parent) == ["mnist.npz"]
    [(src, dst)] = replaced
    assert dst == str(cache) and os.path.dirname(src) == str(cache.parent)
    # The second call finds the cached copy and does not download again.
    server.files.clear()
    assert data.load_mnist(verbose=False).source == "Keras cache ($KERAS_HOME/datasets/mnist.npz)"


def test_download_url_from_environment(tmp_path, monkeypatch, server):
    monkeypatch.delenv("RBMTUT_OFFLINE")
    body = _npz_bytes(_fake_mnist())
    server.files["/m.npz"] = body
    monkeypatch.setenv("RBMTUT_MNIST_URL", server.url + "/m.npz")
    result = data.load_mnist(sha256=hashlib.sha256(body).hexdigest(), verbose=False)
    assert result.source == f"download ({server.url}/m.npz)"


def test_download_hash_mismatch_leaves_nothing(tmp_path, monkeypatch, server):
    monkeypatch.delenv("RBMTUT_OFFLINE")
    body = _npz_bytes(_fake_mnist())
    server.files["/mnist.npz"] = body
    with pytest.raises(ValueError) as info:
        data.load_mnist(url=server.url + "/mnist.npz", sha256="0" * 64, verbose=False)
    message = str(info.value)
    assert hashlib.sha256(body).hexdigest() in message and "0" * 64 in message
    assert "RBMTUT_DATA_DIR" in message
    assert _no_leftovers(_cache_dir(tmp_path)) == []


def test_http_error_falls_through(monkeypatch, server, capsys):
    monkeypatch.delenv("RBMTUT_OFFLINE")
    result = data.load_mnist(url=server.url + "/missing.npz")
    assert _embedded(result)
    assert "404" in capsys.readouterr().out


def _closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist.npz"


@pytest.mark.parametrize("url", [_closed_port_url(), "http://nonexistent.invalid/mnist.npz"])
def test_unreachable_url_falls_through_quickly(tmp_path, monkeypatch, url):
    monkeypatch.delenv("RBMTUT_OFFLINE")
    start = time.monotonic()
    result = data.load_mnist(url=url, timeout=3.0, verbose=False)
    assert time.monotonic() - start < 8
    assert _embedded(result)
    assert _no_leftovers(_cache_dir(tmp_path)) == []


def test_hanging_dns_is_bounded_by_timeout(monkeypatch, capsys):
    monkeypatch.delenv("RBMTUT_OFFLINE")
    release = threading.Event()

    def slow_getaddrinfo(*args, **kwargs):
        release.wait(30)
        raise socket.gaierror("test resolver gave up")

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    start = time.monotonic()
    try:
        result = data.load_mnist(url="http://slow-dns.invalid/mnist.npz", timeout=1.0)
    finally:
        release.set()
    assert time.monotonic() - start < 4
    assert _embedded(result)
    assert "no answer" in capsys.readouterr().out


def test_silent_server_is_bounded_by_timeout(tmp_path, monkeypatch):
    monkeypatch.delenv("RBMTUT_OFFLINE")
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/mnist.npz"
        start = time.monotonic()
        result = data.load_mnist(url=url, timeout=1.0, verbose=False)
        assert time.monotonic() - start < 4
    assert _embedded(result)


def test_stalled_transfer_is_abandoned_and_cleaned_up(tmp_path, monkeypatch, server):
    monkeypatch.delenv("RBMTUT_OFFLINE")
    server.files["/mnist.npz"] = b"STALL"
    start = time.monotonic()
    result = data.load_mnist(url=server.url + "/mnist.npz", timeout=1.0, verbose=False)
    assert time.monotonic() - start < 4
    assert _embedded(result)
    assert _no_leftovers(_cache_dir(tmp_path)) == []


def test_download_that_is_not_mnist_is_an_error_and_not_cached(tmp_path, monkeypatch, server):
    monkeypatch.delenv("RBMTUT_OFFLINE")
    body = _npz_bytes(_fake_mnist(y_train=None))
    server.files["/mnist.npz"] = body
    with pytest.raises(ValueError, match="missing key") as info:
        data.load_mnist(url=server.url + "/mnist.npz", sha256=hashlib.sha256(body).hexdigest(),
                        verbose=False)
    assert server.url in str(info.value)
    assert _no_leftovers(_cache_dir(tmp_path)) == []


def test_download_still_used_when_cache_is_not_writable(tmp_path, monkeypatch, server, capsys):
    monkeypatch.delenv("RBMTUT_OFFLINE")
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("KERAS_HOME", str(blocker))
    body = _npz_bytes(_fake_mnist())
    server.files["/mnist.npz"] = body
    result = data.load_mnist(url=server.url + "/mnist.npz",
                             sha256=hashlib.sha256(body).hexdigest())
    assert result.source.startswith("download")
    assert "could not save" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "not_a_folder"]


@pytest.mark.parametrize("switch", ["env", "argument"])
def test_offline_switches_skip_the_download(monkeypatch, server, switch):
    server.files["/mnist.npz"] = _npz_bytes(_fake_mnist())
    if switch == "argument":
        monkeypatch.delenv("RBMTUT_OFFLINE")
    result = data.load_mnist(url=server.url + "/mnist.npz", allow_download=switch == "env",
                             sha256="0" * 64, verbose=False)
    assert _embedded(result)  # a download would have raised on the wrong hash


# --- tier 4: embedded subset -----------------------------------------------------------

def test_embedded_subset_is_balanced(capsys):
    result = data.load_mnist()
    assert result.source == "embedded subset (5000 train / 1000 test)"
    out = capsys.readouterr().out
    assert "subset" in out and "RBMTUT_DATA_DIR" in out
    assert out.splitlines()[-1] == f"MNIST: {result.source}"
    assert result.x_train.shape == (5000, 28, 28) and result.x_test.shape == (1000, 28, 28)
    assert result.x_train.dtype == result.y_train.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(result.y_train), [500] * 10)
    np.testing.assert_array_equal(np.bincount(result.y_test), [100] * 10)
    assert result.x_train.max() == 255 and result.x_train.min() == 0


def test_select_balanced_takes_first_of_each_class_in_order():
    labels = np.array([3, 1, 3, 0, 1, 2, 3] + list(range(10)))
    idx = make_mnist_subset.select_balanced(labels, 1)
    np.testing.assert_array_equal(idx, [0, 1, 3, 5, 11, 12, 13, 14, 15, 16])
    with pytest.raises(ValueError, match="class"):
        make_mnist_subset.select_balanced(labels, 3)


_HAVE_FULL = bool(_REAL_DATA_DIR) and os.path.isfile(os.path.join(_REAL_DATA_DIR, "mnist.npz"))


@pytest.mark.skipif(not _HAVE_FULL,
                    reason="full MNIST not available (RBMTUT_DATA_DIR unset)")
def test_embedded_subset_matches_its_derivation():
    full = data.load_mnist(data_dir=_REAL_DATA_DIR, verbose=False)
    assert full.x_train.shape == (60000, 28, 28)
    derived = make_mnist_subset.make_subset(full._asdict())
    embedded = data.load_mnist(verbose=False)
    for key in make_mnist_subset.KEYS:
        np.testing.assert_array_equal(getattr(embedded, key), derived[key])


# --- binarisation -----------------------------------------------------------------------

def test_binarize_is_exact_and_flattens():
    x = np.array([[[0, 127], [128, 255]]], dtype=np.uint8)
    np.testing.assert_array_equal(data.binarize(x), [[0, 0, 1, 1]])
    np.testing.assert_array_equal(data.binarize(x / 255.0), data.binarize(x))
    assert data.binarize(x).dtype == np.float32
    np.testing.assert_array_equal(data.binarize(x, threshold=0.0), [[0, 1, 1, 1]])
    assert data.binarize(np.zeros((2, 3, 28, 28), np.uint8)).shape == (6, 784)
    assert data.binarize(np.zeros((5, 784), np.float32)).shape == (5, 784)


def test_to_unit_interval():
    x = np.array([[0, 51, 255]], dtype=np.uint8)
    u = data.to_unit_interval(x)
    assert u.dtype == np.float32
    np.testing.assert_allclose(u, [[0, 0.2, 1]], rtol=1e-6)


def test_binarize_stochastic_is_reproducible_and_unbiased():
    rng = np.random.default_rng(123)
    x = rng.random((500, 28, 28))
    a = data.binarize_stochastic(x, seed=7)
    np.random.seed(999)  # global numpy state must not matter
    b = data.binarize_stochastic(x, seed=7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, data.binarize_stochastic(x, seed=8))
    assert a.dtype == np.float32 and a.shape == (500, 784)
    assert set(np.unique(a)) <= {0.0, 1.0}
    # Each pixel is Bernoulli(p): the mean error has sd sqrt(sum p(1-p)) / N.
    p = x.reshape(500, 784)
    se = np.sqrt(np.sum(p * (1 - p))) / p.size
    assert abs(a.mean() - p.mean()) < 4 * se
    for level in (0.1, 0.5, 0.9):
        bits = data.binarize_stochastic(np.full((100, 784), level), seed=1)
        assert abs(bits.mean() - level) < 4 * np.sqrt(level * (1 - level) / bits.size)


def test_binarize_stochastic_extremes_are_exact():
    x = np.array([[0, 255] * 392] * 50, dtype=np.uint8)
    np.testing.assert_array_equal(data.binarize_stochastic(x, seed=3), x / 255)


@pytest.mark.parametrize("x, error", [
    (np.full((2, 4), np.nan), ValueError),
    (np.full((2, 4), 1.5), ValueError),
    (np.full((2, 4), -0.1), ValueError),
    (np.zeros((2, 4), np.int64), TypeError),
    (np.zeros(4, np.float32), ValueError),
])
def test_bad_images_raise(x, error):
    for fn in (data.to_unit_interval, data.binarize, lambda v: data.binarize_stochastic(v, 0)):
        with pytest.raises(error):
            fn(x)


def test_bad_binarize_arguments_raise():
    x = np.zeros((2, 4), np.float32)
    with pytest.raises(ValueError):
        data.binarize(x, threshold=1.5)
    for seed, error in ((None, TypeError), (-1, ValueError), (1.5, TypeError),
                        (np.random.default_rng(0), TypeError)):
        with pytest.raises(error):
            data.binarize_stochastic(x, seed)


# --- toy data sets -----------------------------------------------------------------------

def test_bars_and_stripes():
    patterns = data.bars_and_stripes()
    assert patterns.shape == (30, 16) and patterns.dtype == np.float32
    assert len(np.unique(patterns, axis=0)) == 30
    images = patterns.reshape(-1, 4, 4)
    rows_constant = (images == images[:, :, :1]).all(axis=(1, 2))
    cols_constant = (images == images[:, :1, :]).all(axis=(1, 2))
    assert (rows_constant | cols_constant).all()
    assert rows_constant[:16].all() and cols_constant[16:].all()
    assert not patterns[0].any() and patterns[15].all()
    np.testing.assert_array_equal(patterns, data.bars_and_stripes(4))
    assert data.bars_and_stripes(3).shape == (14, 9)
    assert data.bars_and_stripes(1).shape == (2, 1)
    for size, error in ((0, ValueError), (-2, ValueError), (2.0, TypeError), (True, TypeError)):
        with pytest.raises(error):
            data.bars_and_stripes(size)


def test_small_digits():
    x, y = data.small_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert x.min() == 0 and x.max() == 1
    assert y.shape == (1797,) and np.issubdtype(y.dtype, np.integer)
    assert set(np.unique(y)) == set(range(10))


# --- batching ---------------------------------------------------------------------------

def test_batches_cover_every_example_once():
    x = np.arange(23)
    for seed in (None, 0):
        chunks = list(data.batches(x, 5, seed=seed))
        assert [len(c) for c in chunks] == [5, 5, 5, 5, 3]
        assert sorted(np.concatenate(chunks)) == list(range(23))
    np.testing.assert_array_equal(np.concatenate(list(data.batches(x, 5))), x)
    shuffled = np.concatenate(list(data.batches(x, 5, seed=0)))
    assert not np.array_equal(shuffled, x)
    np.testing.assert_array_equal(shuffled, np.concatenate(list(data.batches(x, 5, seed=0))))
    dropped = list(data.batches(x, 5, seed=1, drop_remainder=True))
    assert [len(c) for c in dropped] == [5, 5, 5, 5]
    assert len(set(np.concatenate(dropped))) == 20
    assert [len(c) for c in data.batches(x, 100)] == [23]
    assert data.batches(np.zeros((7, 3, 2)), 4).__next__().shape == (4, 3, 2)


def test_bad_batch_size_raises_immediately():
    for size, error in ((0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(error):
            data.batches(np.zeros(4), size)
        with pytest.raises(error):
            data.make_dataset(np.zeros(4), size, seed=0)


def test_make_dataset_reshuffles_each_epoch_deterministically():
    x = np.arange(50, dtype=np.float32)

    def epochs(seed):
        dataset = data.make_dataset(x, 8, seed)
        return [np.concatenate([b.numpy() for b in dataset]) for _ in range(2)]

    first, second = epochs(3)
    assert sorted(first) == sorted(second) == list(range(50))
    assert not np.array_equal(first, second)
    again = epochs(3)
    np.testing.assert_array_equal(first, again[0])
    np.testing.assert_array_equal(second, again[1])
    sizes = [len(b) for b in data.make_dataset(x, 8, 0, drop_remainder=True)]
    assert sizes == [8] * 6
