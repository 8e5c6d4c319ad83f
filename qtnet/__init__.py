"""qtnet: tensor-network simulation and training of distributed compositional quantum models.

Subpackages: :mod:`qtnet.tn` (MPS/MPO engine and dense twin), :mod:`qtnet.circuits`
(gate circuits, OpenQASM 2.0 import).
"""

__version__ = "0.1.0"


def enable_x64(enabled: bool = True) -> None:
    """Switch JAX to 64-bit: states default to complex128 instead of complex64.

    Call it before creating any arrays (it is JAX's global ``jax_enable_x64`` flag).
    """
    import jax

    jax.config.update("jax_enable_x64", bool(enabled))
