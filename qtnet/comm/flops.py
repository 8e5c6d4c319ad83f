"""FLOP counts of qtnet's contractions and decompositions, from their shapes alone.

Every count is in real floating-point operations for real arrays: a multiply-add is 2, so a
contraction costs 2 x (product of the sizes of all distinct indices). Complex arrays multiply
every count by :data:`COMPLEX_FACTOR` (a complex multiply-add is 8 real operations).
Decompositions use the textbook counts of Golub & Van Loan, *Matrix Computations* (4th ed.):
a thin SVD of an m x n matrix (m >= n) with both factors costs min(14 m n^2 + 8 n^3,
6 m n^2 + 20 n^3) (Golub-Reinsch and R-SVD, Fig. 8.6.1), a symmetric eigendecomposition
with eigenvectors 9 m^3 (symmetric QR, §8.3), a Householder QR of an m x n matrix
2 n^2 (m - n/3) plus 4 (m^2 n - m n^2 + n^3/3) to form Q (§5.2.2, §5.1.6). Elementwise
passes are counted only where they are a step's whole work (a Hadamard product, a dense
normalisation). The derivations are in ``docs/communication.md``; the shapes are those of
``qtnet.tn`` (MPS site tensors ``[chi, d, chi]`` padded to the bond cap, so the cost is that
of the cap, not of the rank).
"""

from __future__ import annotations

import math

import opt_einsum

COMPLEX_FACTOR = 4
EIGH_CONSTANT = 9


def svd_flops(m: int, n: int) -> int:
    """Thin SVD ``[m, n] -> U [m, k], s [k], Vh [k, n]`` with ``k = min(m, n)``."""
    m, n = max(m, n), min(m, n)
    return min(14 * m * n**2 + 8 * n**3, 6 * m * n**2 + 20 * n**3)


def qr_flops(m: int, n: int) -> int:
    """Householder QR ``[m, n] -> Q [m, n], R [n, n]`` (``m >= n``), Q formed."""
    m, n = max(m, n), min(m, n)
    return (2 * n**2 * (3 * m - n) + 4 * (3 * m**2 * n - 3 * m * n**2 + n**3)) // 3


def eigh_flops(m: int) -> int:
    """Eigenvalues and eigenvectors of a Hermitian ``[m, m]`` matrix."""
    return EIGH_CONSTANT * m**3


def einsum_flops(subscripts: str, *shapes, optimize="auto") -> int:
    """``jnp.einsum(subscripts, *operands, optimize=optimize)`` on operands of ``shapes``:
    the pairwise contractions of opt_einsum's path (the path JAX's einsum takes), each 2 x
    the product of its distinct index sizes; a one-operand step (a trace, a sum over an
    index) 1 per element it reads."""
    _, info = opt_einsum.contract_path(subscripts, *shapes, shapes=True, optimize=optimize)
    total = 0
    for _, _, step, _, _ in info.contraction_list:
        inputs = step.split("->")[0]
        work = math.prod(info.size_dict[i] for i in set(inputs) - {","})
        total += 2 * work if "," in inputs else work
    return total


# -- MPS -------------------------------------------------------------------------------------

def mps_encode_shapes(n: int, chi: int, d: int = 2) -> list[tuple[int, int]]:
    """The matrices the TT-SVD of a ``d^n`` vector into an MPS of cap ``chi`` decomposes
    (``tn.mps.mps_from_dense``: from the right, ``[d^j, d * bond]`` per site)."""
    rows, bond, shapes = d**n, 1, []
    for _ in range(n - 1):
        left = rows // d
        shapes.append((left, d * bond))
        bond, rows = min(chi, left, d * bond), left
    return shapes


def mps_encode_svds(n: int, chi: int, d: int = 2) -> tuple[int, int]:
    """``(svd count, flops)`` of :func:`mps_encode_shapes`' decompositions."""
    shapes = mps_encode_shapes(n, chi, d)
    return len(shapes), sum(svd_flops(m, k) for m, k in shapes)


def mps_single_site_layer(n: int, chi: int, d: int = 2) -> int:
    """One ``[d, d]`` gate on each of ``n`` sites ``[chi, d, chi]``."""
    return 2 * n * chi**2 * d**2


def two_site_contraction(chi: int, d: int = 2) -> int:
    """The contractions of one two-site gate update: ``B_i B_{i+1}`` (2 chi^3 d^2), the
    ``[d^2, d^2]`` gate on it (2 chi^2 d^4), and the new ``B_i = (G B B) V_k`` (2 chi^3 d^2)."""
    return 4 * chi**3 * d**2 + 2 * chi**2 * d**4


def two_site_decomposition(chi: int, d: int = 2) -> int:
    """The factorisation of one two-site update's ``theta [(chi d), (d chi)]``, ``m = chi d``
    (the engine's ``tn.evolve.two_site_update`` via ``tn.svd.right_singular``): an SVD of
    theta itself (:func:`svd_flops` ``(m, m)``) and one QR of the nonzero singular vectors
    followed by generic vectors, which completes the kept basis (:func:`qr_flops` ``(m, m)``;
    Householder QR orthogonalises the generic vectors, so no projection is done)."""
    m = chi * d
    return svd_flops(m, m) + qr_flops(m, m)


def canonicalize_flops(n: int, bond: int, chi: int, d: int = 2) -> tuple[int, int]:
    """``(svd count, flops)`` of compressing an ``n``-site MPS of bond ``bond`` to ``chi``
    (``tn.canonical.canonicalize``): a left sweep (remainder into the site, 2 bond^3 d, SVD of
    ``[(bond d), bond]``) and a right sweep (2 bond^2 d chi, SVD of ``[bond, (d chi)]``)."""
    left = n * (2 * bond**3 * d + svd_flops(bond * d, bond))
    right = (n - 1) * (2 * bond**2 * d * chi + svd_flops(bond, d * chi))
    edges = 2 * bond**2 * d + 2 * d * bond * chi
    return 2 * n - 1, left + right + edges


def mpo_mps_contraction(n: int, w: int, chi: int, d: int = 2) -> int:
    """An MPO ``[w, d, d, w]`` on an MPS ``[chi, d, chi]``, site by site (bond w chi)."""
    return 2 * n * w**2 * chi**2 * d**2


def hadamard_sweep_bond(chi_a: int, chi_b: int, max_bond: int, oversample: int = 2) -> int:
    """The zip-up sweep's bond (``tn.algebra.hadamard``): ``min(oversample * max_bond,
    chi_a chi_b)``."""
    return min(oversample * max_bond, chi_a * chi_b)


def mps_hadamard(n: int, chi_a: int, chi_b: int, sweep: int, d: int = 2) -> tuple[int, int]:
    """``(svd count, flops)`` of the zip-up sweep of a Hadamard product of caps ``chi_a``,
    ``chi_b`` at sweep bond ``sweep``: per site the carry ``[sweep, a, b]`` into both site
    tensors (2 sweep d a b (a + b)) and one SVD of ``[(sweep d), (a b)]``; the canonical
    compression of the sweep bond after it is :func:`canonicalize_flops`."""
    contract = 2 * sweep * d * chi_a * chi_b * (chi_a + chi_b)
    return n, n * (contract + svd_flops(sweep * d, chi_a * chi_b))


def transfer_scan(n: int, chi: int, d: int = 2) -> int:
    """``<a|b>`` by a left-to-right environment: 4 chi^3 d per site."""
    return 4 * n * chi**3 * d


def product_overlap(n: int, chi: int, d: int = 2) -> int:
    """``<b|psi>`` for a product state ``b`` (bond 1): the environment ``[chi]`` through each
    site ``[chi, d, chi]`` (2 chi^2 d), then the bra's local vector (2 d chi)."""
    return n * (2 * chi**2 * d + 2 * d * chi)


def expectation_term(n: int, chi: int, d: int = 2) -> int:
    """``<psi| prod_i O_i |psi>`` for one product of local operators (every site)."""
    return n * (4 * chi**3 * d + 2 * chi**2 * d**2)


def marginal(k: int, chi: int, d: int = 2) -> int:
    """Born probabilities of the first ``k`` sites of a right-canonical MPS."""
    return sum(2 * d ** (i + 1) * chi**2 for i in range(k))


# -- dense statevector -----------------------------------------------------------------------

def gate_on_vector(k: int, n_amplitudes: int, d: int = 2) -> int:
    """A ``k``-site gate ``[d^k, d^k]`` on ``n_amplitudes`` amplitudes."""
    return 2 * d**k * n_amplitudes


def mpo_to_dense(n: int, w: int, d: int = 2) -> int:
    """Building the ``[d^n, d^n]`` matrix of an ``n``-site MPO of bond ``w`` site by site."""
    return sum(2 * d ** (2 * k + 2) * w**2 for k in range(1, n))
