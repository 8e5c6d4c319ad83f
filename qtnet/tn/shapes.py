"""Shape-annotated array types (jaxtyping) for the engine's signatures; annotations only.

Dimension names used throughout: ``n`` sites, ``d`` physical dimension, ``chi`` MPS bond
cap, ``D`` MPO bond cap, ``depth`` layers, ``G`` gates of a sequence, ``K`` Pauli terms,
``k`` sites read out. Nothing here is checked at run time (no import hook): the aliases
document shapes and never change what is traced.
"""

from __future__ import annotations

from jaxtyping import Array, ArrayLike, Inexact, Int, Num, Real

# The MPS pytree (leading batch axes under vmap).
SiteTensors = Inexact[Array, "*batch n chi d chi"]
SchmidtValues = Real[Array, "*batch n+1 chi"]
BondRanks = Int[Array, "*batch n+1"]
BatchScalar = Real[Array, "*batch"]

# The MPO pytree.
MPOTensors = Inexact[Array, "*batch n D d d D"]

# Dense vectors and matrices over all sites.
StateVector = Inexact[Array, "d**n"]
VectorLike = Num[ArrayLike, "d**n"]
MatrixLike = Num[ArrayLike, "d**n d**n"]
DenseMatrix = Inexact[Array, "d**n d**n"]

# Per-site data.
LocalVectors = Num[ArrayLike, "n d"]
LocalOperators = Num[ArrayLike, "*terms n d d"]
SingleSiteLayer = Num[ArrayLike, "n d d"]

# Gate arrays.
Gate = Num[ArrayLike, "m m"]
PairLayer = Num[ArrayLike, "pairs d*d d*d"]
BrickworkSingles = Num[ArrayLike, "depth n d d"]
BrickworkPairs = Num[ArrayLike, "depth n//2 d*d d*d"]
GateSequence = Num[ArrayLike, "G d*d d*d"]
GateSites = Int[ArrayLike, "G"]
Angles = Real[ArrayLike, "depth ..."]

# One two-site update (c = bond cap).
BondVector = Real[Array, "c"]
SiteTensor = Inexact[Array, "c d c"]

# Read-outs.
Scalar = Inexact[Array, ""]
RealScalar = Real[Array, ""]
Expectations = Inexact[Array, "*terms"]
Probabilities = Real[Array, "d**k"]
Samples = Int[Array, "samples n"]

# Decompositions and named gates.
Matrices = Inexact[Array, "*batch m n"]
SingularValues = Real[Array, "*batch k"]
SU4Params = Real[ArrayLike, "*batch 15"]
TwoQubitGates = Inexact[Array, "*batch 4 4"]
OneQubitGates = Inexact[Array, "*batch 2 2"]
