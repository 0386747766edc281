"""Binary codes: real-valued codes to bits, bits packed into 64-bit words, popcount.

Bit j of a code is 1 where code_j > threshold.  Packed, bit j of code i is
bit ``j % 64`` of ``words[i, j // 64]``, so a Hamming distance is a XOR and a
popcount per word (:mod:`rbmtut.hashing.search`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_int, check_matrix, check_real

__all__ = ["binarize_codes", "PackedCodes", "pack_bits", "unpack_bits", "popcount",
           "swar_popcount", "check_codes_matrix", "check_packed", "distance_dtype"]

_M1, _M2, _M4, _H01 = (np.uint64(m) for m in (0x5555555555555555, 0x3333333333333333,
                                              0x0F0F0F0F0F0F0F0F, 0x0101010101010101))


def swar_popcount(x: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 by shifts and masks
    (for NumPy < 2, which lacks ``bitwise_count``)."""
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return ((x * _H01) >> np.uint64(56)).astype(np.uint8)


# 1,000 x 60,000 codes of one 64-bit word on two CPU cores: np.bitwise_count
# about 0.2-0.3 s, TF (bitwise_xor + raw_ops.PopulationCount) about 0.7 s,
# the shift-and-mask fallback about 1.3 s.  So the search is NumPy.
#: ``np.bitwise_count`` where NumPy has it (NumPy >= 2), else :func:`swar_popcount`.
popcount = getattr(np, "bitwise_count", swar_popcount)




def check_codes_matrix(x, name: str) -> np.ndarray:
    """A finite real-valued matrix (n, d), n >= 1
    (bool is refused: binarise real codes)."""
    x = check_matrix(x, name)
    if x.dtype == bool:
        raise TypeError(f"{name} must be real-valued; got dtype bool.")
    return x


def binarize_codes(codes, threshold: float = 0.5) -> np.ndarray:
    """Bits of real-valued codes: ``bit = code > threshold``.

    Args:
        codes: (n, n_bits), e.g. an encoder's logistic code units.
        threshold: 0.5 for logistic units (probabilities); 0.0 for
            projections, i.e. the sign of ``x w`` with 0 mapped to bit 0.

    Returns:
        bool array (n, n_bits).
    """
    threshold = check_real(threshold, "threshold")
    return check_codes_matrix(codes, "codes") > threshold


@dataclass(frozen=True, eq=False)
class PackedCodes:
    """Binary codes in 64-bit words: bit j of code i is bit ``j % 64`` of
    ``words[i, j // 64]``.

    Attributes:
        words: uint64 (n, ceil(n_bits / 64)); the last word's unused high bits are 0.
        n_bits: the code length.
    """

    words: np.ndarray
    n_bits: int

    def __post_init__(self):
        check_int(self.n_bits, "n_bits", low=1)
        w = self.words
        if not isinstance(w, np.ndarray) or w.dtype != np.uint64 or w.ndim != 2 \
                or w.shape[1] != -(-self.n_bits // 64):
            raise ValueError(
                f"words must be uint64 of shape (n, {-(-self.n_bits // 64)}) for "
                f"{self.n_bits} bits; build PackedCodes with pack_bits(bits).")
        if self.n_bits % 64 and np.any(w[:, -1] >> np.uint64(self.n_bits % 64)):
            raise ValueError(
                f"words have bits set beyond bit {self.n_bits}; use pack_bits(bits).")

    def __len__(self) -> int:
        return len(self.words)

    def __getitem__(self, index) -> PackedCodes:
        """The codes ``index`` selects (an int gives one code, still 2-D)."""
        words = self.words[index].reshape(-1, self.words.shape[1])
        return PackedCodes(words, self.n_bits)


def pack_bits(bits) -> PackedCodes:
    """Pack bits (n, n_bits) — bool, or numbers that are all 0 or 1 — into
    :class:`PackedCodes`."""
    bits = np.asarray(bits)
    if bits.ndim != 2 or bits.shape[1] == 0:
        raise ValueError("bits must be a 2-D array (n, n_bits) with n_bits >= 1; "
                         f"got {bits.shape}.")
    if bits.dtype != bool:
        if not np.issubdtype(bits.dtype, np.number) or not np.isin(bits, (0, 1)).all():
            raise ValueError("bits must be bool or 0/1 values; binarise real-valued "
                             "codes with binarize_codes(codes, threshold) first.")
    n, n_bits = bits.shape
    n_words = -(-n_bits // 64)
    padded = np.zeros((n, 64 * n_words), np.uint8)
    padded[:, :n_bits] = bits
    # Byte k holds bits 8k..8k+7.
    as_bytes = np.packbits(padded, axis=1, bitorder="little")
    return PackedCodes(as_bytes.view("<u8").astype(np.uint64), n_bits)


def unpack_bits(codes: PackedCodes) -> np.ndarray:
    """The bool bits (n, n_bits) of packed codes (inverse of :func:`pack_bits`)."""
    check_packed(codes, "codes")
    as_bytes = np.ascontiguousarray(codes.words.astype("<u8")).view(np.uint8)
    bits = np.unpackbits(as_bytes, axis=1, bitorder="little")
    return bits[:, :codes.n_bits].astype(bool)


def check_packed(codes, name: str, n_bits: int | None = None) -> None:
    if not isinstance(codes, PackedCodes):
        raise TypeError(f"{name} must be PackedCodes; pack bits with pack_bits(bits).")
    if n_bits is not None and codes.n_bits != n_bits:
        raise ValueError(f"{name} have {codes.n_bits} bits but the database has "
                         f"{n_bits}; encode both with the same hash.")


def distance_dtype(n_bits: int):
    return np.uint8 if n_bits <= 255 else np.uint16


