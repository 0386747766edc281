"""Semantic hashing: binary codes, packed Hamming search,
retrieval metrics and baselines.

Semantic hashing (Salakhutdinov & Hinton 2009) gives every item a short
binary code such that similar items get codes a few bit flips apart.  The
package is in six parts, re-exported here:

- :mod:`rbmtut.hashing.codes`: real-valued codes to bits, packed into 64-bit words;
- :mod:`rbmtut.hashing.search`: Hamming distances by XOR and popcount, k-nearest
  codes, and every item within a Hamming ball through a hash table of codes;
- :mod:`rbmtut.hashing.metrics`: retrieval scores with relevance = same label,
  and paired bootstrap intervals for their differences;
- :mod:`rbmtut.hashing.reranking`: a Hamming ball re-ranked on real features;
- :mod:`rbmtut.hashing.semantic`: semantic hashing's fine-tuning with
  deterministic noise at the code units' input;
- :mod:`rbmtut.hashing.baselines`: random-hyperplane LSH, PCA sign and PCA-ITQ
  (Gong & Lazebnik 2011).

Chapter 6 (``06_semantic_hashing``) explains them.  Conventions: bit j of a
code is 1 where code_j > threshold; a ranking orders the database by Hamming
distance, ties broken by database index (lower first), as a stable sort of
the distances does.
"""

from .baselines import LinearHash, fit_itq, fit_lsh, fit_pca_sign
from .codes import (PackedCodes, binarize_codes, pack_bits, popcount, swar_popcount,
                    unpack_bits)
from .metrics import (PairedDifference, RadiusCurves, RetrievalScores,
                      average_precision, average_precision_from_hits,
                      evaluate_retrieval, paired_bootstrap, precision_at,
                      radius_curves, radius_curves_from_hits, rank_by_distance,
                      ranked_hits)
from .reranking import rerank_balls
from .search import (HammingTable, Neighbours, hamming_distance_blocks,
                     hamming_distances, hamming_knn)
from .semantic import deterministic_code_noise, fit_semantic_hashing, semantic_codes

__all__ = [
    "binarize_codes", "PackedCodes", "pack_bits", "unpack_bits", "popcount",
    "swar_popcount", "hamming_distance_blocks", "hamming_distances", "Neighbours",
    "hamming_knn", "HammingTable", "rank_by_distance", "ranked_hits",
    "average_precision_from_hits", "average_precision", "precision_at", "RadiusCurves",
    "radius_curves_from_hits", "radius_curves", "RetrievalScores", "evaluate_retrieval",
    "LinearHash", "fit_lsh", "fit_pca_sign", "fit_itq", "PairedDifference",
    "paired_bootstrap", "rerank_balls", "deterministic_code_noise",
    "fit_semantic_hashing", "semantic_codes",
]
