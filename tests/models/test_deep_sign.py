"""The deep polynomial SIGN circuit (model.type: deep_sign): the same model on the MPS and
dense backends (forward and gradients, untruncated), a truncating bond whose fidelity is
below 1 and whose logits approach the exact ones as the bond grows, and clear errors for a
circuit that cannot be built."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from qtnet import tn
from qtnet.config import BackendConfig, ConfigError
from qtnet.gnn.synthetic import grid_propagation_mpo, hop_state, node_bits
from qtnet.models.deep_sign import DeepSign, DeepSignConfig, build_deep_sign

NODE, FEAT, HOPS, CLASSES, LAYERS = 4, 1, 1, 3, 2      # node | hop | feat = 4 + 1 + 1 sites
FULL = 8                                              # 2^(6 // 2): every bond exact
# The Hadamard product zips up at twice the cap; its sweep splits are exact (value and
# gradient) when that bond covers every split's rank, here 2^6: cap 32.
ROOMY = 32


def _hop_state(seed=0):
    x = tn.random_mps(jax.random.PRNGKey(seed), NODE + FEAT, 3, max_bond=FULL,
                      dtype=jnp.float64)
    phi = hop_state(grid_propagation_mpo(NODE // 2), x, HOPS, max_bond=FULL)
    return tn.scale(phi, 2.0 ** (NODE / 2))


def _loss_and_grads(phi, backend, max_bond):
    model = DeepSign(phi, NODE, CLASSES, layers=LAYERS, backend=backend, max_bond=max_bond,
                     rngs=nnx.Rngs(params=3))
    graphdef, params = nnx.split(model, nnx.Param)
    bits = jnp.asarray(node_bits(np.arange(2**NODE), NODE))
    y = jnp.asarray(np.arange(2**NODE) % CLASSES)

    def loss(p):
        out = nnx.merge(graphdef, p)(bits)
        ce = optax.softmax_cross_entropy_with_integer_labels(out["logits"], y).mean()
        return ce, out

    (value, out), grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(params)
    flat = jnp.concatenate([g.ravel() for g in jax.tree.leaves(nnx.to_pure_dict(grads))])
    return out, flat


def test_mps_equals_dense_untruncated_forward_and_gradients():
    phi = _hop_state()
    dense, g_dense = _loss_and_grads(phi, "dense", FULL)
    mps, g_mps = _loss_and_grads(phi, "mps", ROOMY)
    np.testing.assert_allclose(mps["logits"], dense["logits"], atol=1e-10)
    assert float(jnp.min(mps["fidelity"])) > 1 - 1e-10
    # Gradients through every compression, rank-deficient bonds included (the 1e-8).
    assert float(jnp.abs(g_mps - g_dense).max() / jnp.abs(g_dense).max()) < 1e-8


def test_truncation_lowers_fidelity_and_logits_approach_the_exact_ones_as_the_bond_grows():
    phi = _hop_state(1)
    bits = jnp.asarray(node_bits(np.arange(2**NODE), NODE))

    def forward(chi):
        model = DeepSign(phi, NODE, CLASSES, layers=LAYERS, max_bond=chi,
                         rngs=nnx.Rngs(params=3))
        graphdef, params = nnx.split(model, nnx.Param)
        return jax.jit(lambda p: nnx.merge(graphdef, p)(bits))(params)

    exact = forward(FULL)["logits"]
    errors, fidelities = [], []
    for chi in (1, 2, 4):
        out = forward(chi)
        errors.append(float(jnp.abs(out["logits"] - exact).max()))
        fidelities.append(float(out["fidelity"][0]))
    assert all(f < 1 - 1e-6 for f in fidelities[:2]), fidelities
    assert errors[0] > errors[1] > errors[2], errors
    assert fidelities[0] < fidelities[1] <= fidelities[2] + 1e-12, fidelities


@pytest.mark.parametrize("kwargs, message", [
    (dict(layers=0), "model.layers"),
    (dict(weight_bond=0), "model.weight_bond"),
    (dict(max_bond=0), "backend.max_bond"),
    (dict(node_qubits=6), "no hop/feature register"),
    (dict(n_classes=5), "5 classes do not fit"),
])
def test_a_circuit_that_cannot_be_built_is_a_config_error(kwargs, message):
    phi = _hop_state()
    args = dict(node_qubits=NODE, n_classes=CLASSES, layers=LAYERS, weight_bond=4, max_bond=4)
    args.update(kwargs)
    with pytest.raises(ConfigError, match=message):
        DeepSign(phi, args.pop("node_qubits"), args.pop("n_classes"), rngs=nnx.Rngs(0),
                 **args)


def test_the_builder_needs_a_hop_state_that_fits_the_backend():
    with pytest.raises(ConfigError, match="data.type: grid_deep"):
        build_deep_sign(DeepSignConfig(), sample_shape=(4,), n_classes=2,
                        backend=BackendConfig(max_bond=4), rngs=nnx.Rngs(0), data=None)

    class Big:
        state = tn.random_mps(jax.random.PRNGKey(0), 28, 2, dtype=jnp.float64)

    with pytest.raises(ConfigError, match="backend.type: dense"):
        build_deep_sign(DeepSignConfig(), sample_shape=(24,), n_classes=2,
                        backend=BackendConfig(type="dense", max_bond=4), rngs=nnx.Rngs(0),
                        data=Big())
    with pytest.raises(ConfigError, match="backend.max_bond"):
        DeepSignConfig().validate_backend(BackendConfig(max_bond=None))
