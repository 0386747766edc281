"""What a GPU would change: step times projected from counted FLOPs and bytes.

Nothing here runs on a GPU.  A step is a list of :class:`Kernel` s whose
FLOPs and bytes are counted, and :func:`project` gives each kernel
``max(FLOPs / FLOP rate, bytes / bandwidth)`` plus a fixed cost per launch
on a :class:`Device`: this CPU, with rates measured by :func:`measure_cpu`,
or a GPU described by its datasheet (:data:`T4`).  The performance appendix
(``appendix_performance``) shows the table (:func:`projection_table`).

The counting rules:

- a product (m, k) @ (k, n) is ``2 m k n`` FLOPs and reads and writes its
  three operands once;
- any other operation reads its full-size inputs and writes its output once,
  at one FLOP per element; a reduction writes a negligible output; broadcast
  vectors (biases) and scalars are not counted, but their launches are;
- a uniform random number costs 16 integer operations (Philox-4x32-10: ten
  rounds for four numbers) and a 4-byte write;
- float32 throughout: 4 bytes per number.

A projection assumes that every kernel runs at the device's peak rates,
which small kernels do not reach: read the projected times as optimistic.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import tensorflow as tf

from .floors import matmul_floor, matmuls_per_update
from .tables import Table
from .timing import best_of

__all__ = [
    "Kernel", "matmul", "elementwise", "reduction", "cd_update_kernels",
    "ais_temperature_kernels", "hamming_kernels", "Device", "T4", "measure_cpu",
    "project", "projection_table",
]


# --- counting a step ------------------------------------------------------------------


class Kernel(NamedTuple):
    """``launches`` alike operations of a step: their total FLOPs and bytes moved."""

    name: str
    flops: float
    bytes: float
    launches: int = 1


def matmul(name: str, m: int, k: int, n: int, count: int = 1) -> Kernel:
    """``count`` products (m, k) @ (k, n): each ``2 m k n`` FLOPs and
    ``4 (m k + k n + m n)`` bytes."""
    moved = 4 * (m * k + k * n + m * n)
    return Kernel(name, count * 2 * m * k * n, count * moved, count)


def elementwise(name: str, size: int, inputs: int = 1, launches: int = 1) -> Kernel:
    """``launches`` operations, each reading ``inputs`` arrays of ``size`` numbers
    and writing one: ``size`` FLOPs and ``4 size (inputs + 1)`` bytes each."""
    return Kernel(name, launches * size, launches * 4 * size * (inputs + 1), launches)


def reduction(name: str, size: int, launches: int = 1) -> Kernel:
    """``launches`` sums (or means) of ``size`` numbers each: ``size`` FLOPs and
    ``4 size`` bytes each."""
    return Kernel(name, launches * size, launches * 4 * size, launches)


def _bernoulli(name: str, size: int) -> list[Kernel]:
    """Uniform noise, then ``noise < p`` and a cast to float."""
    return [Kernel(f"{name}: uniform noise", 16 * size, 4 * size),
            elementwise(f"{name}: compare, cast", size, inputs=2, launches=2)]


def cd_update_kernels(batch_size: int, n_visible: int, n_hidden: int, *,
                      persistent: bool = False,
                      weight_decay: bool = False) -> list[Kernel]:
    """The kernels of one CD-1 update (``persistent``: PCD-1) of ``02_gibbs_cd_pcd``.

    The products are those of the matrix-multiply floor
    (:func:`rbmtut.book.floors.matmuls_per_update`: ``v W``, ``h W^T``,
    ``v' W`` and two outer products; any further product of PCD comes with
    its own bias add and sigmoid).  Around them: bias adds and sigmoids, two
    Bernoulli samples, the surrogate's free energies, the rows of both outer
    products stacked (``[v; v']`` and ``[h / n; -h' / n]``, so that one
    product gives the gradient), ``weight_decay``'s two passes over W when
    it is on, and one fused momentum update of W, b and c; PCD also stores
    its chains' visible and hidden states.

    Returns:
        A list of :class:`Kernel`.
    """
    n, V, H = batch_size, n_visible, n_hidden
    products = matmuls_per_update("pcd" if persistent else "cd", 1)
    extra = products - matmuls_per_update("cd", 1)
    kernels = [elementwise("gather the batch", n * V),
               matmul("v W, h W^T and the outer products", n, V, H, products),
               elementwise("hidden: + c, sigmoid", n * H, launches=4 + 2 * extra),
               elementwise("visible: + b, sigmoid", n * V, launches=2)]
    kernels += _bernoulli("sample h", n * H) + _bernoulli("sample v", n * V)
    kernels += [Kernel("free energies: v.b", 2 * 2 * n * V, 2 * 4 * n * V, 2),
                elementwise("free energies: softplus", n * H, launches=2),
                reduction("free energies: sum over hidden units", n * H, launches=2),
                Kernel("stack the rows of v, v' and of h, h'", 0,
                       2 * 4 * 2 * n * (V + H), 2),
                elementwise("h / n and -h' / n", n * H, launches=2),
                reduction("db: column means of v, v'", n * V, launches=2),
                reduction("dc: column means of h, h'", n * H, launches=2),
                Kernel("momentum update of W, b, c", 4 * V * H, 4 * 5 * V * H, 3),
                Kernel("scalars: losses, loop counter", 0, 0, 10)]
    if weight_decay:
        kernels.append(elementwise("dW + decay W", V * H, inputs=2, launches=2))
    if persistent:
        kernels.append(elementwise("store the chains", n * (V + H)))
    return kernels


def ais_temperature_kernels(n_runs: int, n_visible: int, n_hidden: int) -> list[Kernel]:
    """The kernels of one AIS temperature for ``n_runs`` runs
    (:func:`rbmtut.likelihood.ais_log_weights`).

    ``a = v W + c``; the log-weight increment ``log p*_beta(v) -
    log p*_beta'(v)`` (two of each: ``v.b_mix``, ``beta a``, softplus, sum
    over hidden units); a Gibbs transition at ``beta`` (``beta a``, sigmoid,
    sample h, ``h W^T``, the visible logits, sigmoid, sample v).

    Returns:
        A list of :class:`Kernel`.
    """
    R, V, H = n_runs, n_visible, n_hidden
    return [matmul("v W", R, V, H), elementwise("+ c", R * H),
            Kernel("log p*: v.b_mix (2x)", 2 * 2 * R * V, 2 * 4 * R * V, 2),
            elementwise("log p*: beta a, softplus (2x)", R * H, launches=4),
            reduction("log p*: sum over hidden units (2x)", R * H, launches=2),
            Kernel("biases, scalars, log-weight update", 0, 0, 12),
            elementwise("hidden: beta a, sigmoid", R * H, launches=2),
            *_bernoulli("sample h", R * H), matmul("h W^T", R, H, V),
            elementwise("visible: + b, beta, + base, sigmoid", R * V, launches=4),
            *_bernoulli("sample v", R * V)]


def hamming_kernels(n_codes: int, n_bits: int, n_queries: int = 1) -> list[Kernel]:
    """Hamming distances of ``n_queries`` queries to ``n_codes`` codes, as in
    ``rbmtut.hashing``, all queries in the same four launches.

    Codes are stored in 64-bit words (8 bytes each, however short the code);
    per query and word: XOR (8 bytes read, 8 written), popcount (8 read, a
    byte written), add into the uint8 distances (3 bytes), after zeroing
    them.  Here the "FLOPs" are integer operations.

    Returns:
        A list of :class:`Kernel`.
    """
    N = n_queries * n_codes * -(-n_bits // 64)  # query-word pairs
    return [Kernel("zero the distances", 0, n_queries * n_codes),
            Kernel("XOR", N, 16 * N), Kernel("popcount", N, 9 * N),
            Kernel("add", N, 3 * N)]


# --- devices and the projection -------------------------------------------------------


class Device(NamedTuple):
    """A device as the projection sees it: two peak rates and a cost per launch.

    Attributes:
        name: for the table.
        flops_per_s: float32 FLOP/s.
        bytes_per_s: memory bandwidth, bytes/s.
        launch_s: fixed seconds per kernel launch.
    """

    name: str
    flops_per_s: float
    bytes_per_s: float
    launch_s: float


#: NVIDIA T4: the datasheet's 8.1 TFLOP/s float32 and 320 GB/s (GDDR6), not
#: measured here; 5 microseconds per kernel launch is an assumption (TensorFlow
#: typically spends 5-10 us per op it launches on a GPU).
T4 = Device("T4 (datasheet)", 8.1e12, 320e9, 5e-6)


def _one_minus(x):
    return 1.0 - x


@tf.function
def _chain(x, n, op, length):
    """``n`` iterations of ``length`` dependent ``x <- op(x)``, in one compiled loop."""
    def body(i, x):
        for _ in range(length):
            x = op(x)
        return i + 1, x

    return tf.reduce_sum(tf.while_loop(lambda i, _: i < n, body, (0, x))[1])


def _per_iteration(x, op, length, repeats) -> float:
    """Seconds per iteration of :func:`_chain`: (time of 21 - time of 1) / 20."""
    best = [best_of(lambda n=n: float(_chain(x, tf.constant(n), op, length)),
                    repeats=repeats).best for n in (1, 21)]
    return max(best[1] - best[0], 1e-9) / 20


def measure_cpu(*, n_visible: int = 784, n_hidden: int = 500, batch_size: int = 100,
                updates: int = 50, n_floats: int = 2**20, repeats: int = 3,
                seed: int = 0) -> Device:
    """This CPU's effective rates, measured in compiled TensorFlow loops.

    - FLOP/s: the CD-1 matrix-multiply floor (:func:`rbmtut.book.floors.matmul_floor`)
      on ``updates`` batches of the given sizes: products and nothing else;
    - bytes/s: ``x <- 1 - x`` over ``n_floats`` float32 numbers (4 bytes read,
      4 written each), from the difference between 21 iterations and 1;
    - launch: a chain of 20 dependent sines of one number, per sine, likewise.

    Returns:
        A :class:`Device` named ``"this CPU (measured)"``.
    """
    data = tf.cast(tf.random.stateless_uniform((updates * batch_size, n_visible),
                                               [seed, 2]) < 0.5, tf.float32)
    floor = matmul_floor(data, batch_size, n_hidden, seed=seed)
    order = np.arange(updates * batch_size, dtype=np.int32).reshape(updates, batch_size)
    matmul_s = best_of(lambda: float(floor(order)), repeats=repeats).best
    flops = updates * matmul("", batch_size, n_visible, n_hidden,
                             floor.matmuls_per_update).flops
    stream_s = _per_iteration(tf.fill([n_floats], 0.5), _one_minus, 1, repeats)
    launch_s = _per_iteration(tf.constant(0.5), tf.sin, 20, repeats) / 20
    return Device("this CPU (measured)", flops / matmul_s, 8 * n_floats / stream_s,
                  launch_s)


def project(kernels, device: Device) -> float:
    """Projected seconds of a step on ``device`` (a projection, not a measurement).

    ``sum over kernels of max(flops / flops_per_s, bytes / bytes_per_s)
    + launches * launch_s``: each kernel is limited by its arithmetic or by
    its memory traffic, whichever takes longer, and pays for its launches.
    """
    return sum(max(k.flops / device.flops_per_s, k.bytes / device.bytes_per_s)
               + k.launches * device.launch_s for k in kernels)


def projection_table(steps: dict, devices, measured: dict | None = None) -> Table:
    """Counts and projected milliseconds per step and device.

    Args:
        steps: step name -> list of :class:`Kernel`.
        devices: :class:`Device` s, a column each; the speed-up is the first
            device's projected time over the last one's.
        measured: step name -> seconds measured on this machine, shown beside.

    Returns:
        A :class:`~rbmtut.book.tables.Table`, captioned as a projection.
    """
    measured = measured or {}
    rows = []
    for name, kernels in steps.items():
        times = [project(kernels, d) for d in devices]
        seen = measured.get(name)
        rows.append([name, sum(k.flops for k in kernels) / 1e6,
                     sum(k.bytes for k in kernels) / 1e6,
                     sum(k.launches for k in kernels), *(t * 1e3 for t in times),
                     None if seen is None else seen * 1e3, times[0] / times[-1]])
    columns = ["step", "MFLOP", "MB moved", "launches",
               *(f"{d.name}, ms" for d in devices), "measured here, ms",
               f"speed-up, {devices[-1].name}"]
    formats = {c: ".3g" for c in columns[1:]}
    formats["launches"] = "d"
    return Table(rows, columns, formats=formats,
                 caption="Projected, not measured (except the measured column): "
                         "per kernel max(FLOPs / FLOP rate, bytes / bandwidth) plus "
                         "its launches times the launch cost, summed over the step")
