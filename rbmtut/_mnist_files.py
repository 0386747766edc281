"""Reading, downloading and saving MNIST files for :func:`rbmtut.data.load_mnist`.

Every file is validated before it is used; a download is checked against its
sha256 before it is cached, and cached atomically, so no reader ever sees a
partial or unverified ``mnist.npz``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
import urllib.request
import zipfile

import numpy as np

__all__ = ["KEYS", "read_npz", "download", "save_atomically"]

KEYS = ("x_train", "y_train", "x_test", "y_test")

_REPLACE = ("Delete or replace it with the mnist.npz that keras.datasets.mnist "
            "downloads (keys x_train, y_train, x_test, y_test; uint8).")


def read_npz(file, name: str, advice: str = _REPLACE) -> dict[str, np.ndarray]:
    """Read and validate an MNIST ``.npz``; ``name`` and ``advice`` go into errors."""
    def bad(problem: str) -> ValueError:
        return ValueError(f"{name} is not a usable MNIST file: {problem}. {advice}")
    if not zipfile.is_zipfile(file):
        raise bad("it is not an .npz (zip) archive")
    if hasattr(file, "seek"):
        file.seek(0)  # is_zipfile leaves an open handle positioned at the end
    try:
        with np.load(file, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in KEYS if key in archive.files}
    except Exception as err:  # zip/npy decoding errors come in many types
        raise bad(f"it cannot be read ({type(err).__name__}: {err})") from err
    missing = [key for key in KEYS if key not in arrays]
    if missing:
        raise bad(f"missing key(s) {', '.join(missing)}")
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.shape != (len(x),):
            raise bad(f"x_{part} has shape {x.shape} and y_{part} {y.shape}; "
                      "expected (n, 28, 28) and (n,)")
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise bad(f"x_{part} is {x.dtype} and y_{part} {y.dtype}; expected uint8")
        if y.size and y.max() > 9:
            raise bad(f"y_{part} holds labels outside 0..9")
    return arrays


def download(url: str, expected: str, timeout: float, say) -> bytes | None:
    """Fetch ``url`` and check its sha256; return None (with a notice) if unreachable.

    urllib's own timeout does not cover DNS resolution, so the transfer runs in
    a daemon thread and this thread gives up once nothing has arrived for
    ``timeout`` seconds. The body (11 MB for MNIST) stays in memory until it is
    verified, so an abandoned or corrupt transfer never leaves a file behind.
    """
    state = {"progress": time.monotonic(), "body": None, "error": None}
    finished = threading.Event()
    threading.Thread(target=_fetch, args=(url, timeout, state, finished),
                     daemon=True).start()
    while not finished.wait(max(0.0, state["progress"] + timeout - time.monotonic())):
        if time.monotonic() - state["progress"] >= timeout:
            say(f"MNIST: no answer from {url} within {timeout:g} s; "
                "skipping the download.")
            return None
    if state["error"] is not None:
        say(f"MNIST: could not download {url} ({state['error']}); skipping it.")
        return None
    actual = hashlib.sha256(state["body"]).hexdigest()
    if actual != expected.lower():
        raise ValueError(
            f"The file downloaded from {url} has sha256 {actual}, but "
            f"{expected.lower()} was expected; it was not saved. Try again later, or "
            "fetch mnist.npz yourself and set RBMTUT_DATA_DIR to its folder.")
    return state["body"]


def _fetch(url: str, timeout: float, state: dict, finished: threading.Event) -> None:
    """Worker thread of :func:`download`; reports through ``state``."""
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "rbmtut"})
        chunks = []
        with urllib.request.urlopen(request, timeout=timeout) as response:
            state["progress"] = time.monotonic()
            while chunk := response.read(1 << 16):
                chunks.append(chunk)
                state["progress"] = time.monotonic()
        state["body"] = b"".join(chunks)
    except Exception as err:  # any failure means "no download"; the caller reports it
        state["error"] = err
    finally:
        finished.set()


def save_atomically(body: bytes, dest: str, say) -> None:
    """Write ``body`` to ``dest`` via a temporary file in the same folder."""
    tmp = None
    try:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".mnist.npz.", suffix=".part",
                                   dir=os.path.dirname(dest))
        with os.fdopen(fd, "wb") as out:
            out.write(body)
        os.replace(tmp, dest)  # atomic: no reader ever sees a partial mnist.npz
    except OSError as err:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
        say(f"MNIST: could not save the download to {dest} ({err}); using it unsaved.")
