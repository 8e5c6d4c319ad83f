"""The one registry behind models, datasets and backends: names, errors, order."""

import pytest

from qtnet.config import ConfigError
from qtnet.registry import Registry


def test_names_in_order_lookup_and_errors_name_the_key_and_the_valid_names():
    reg = Registry("model", key="model.type", error=ConfigError)
    assert reg.register("mlp", 1) == 1
    reg.register("figure2", 2)
    assert reg.names() == ("mlp", "figure2") and list(reg) == [1, 2]
    assert reg.get("figure2") == 2 and "mlp" in reg and "vit" not in reg
    with pytest.raises(ConfigError, match=r"^model.type: unknown model 'vit'; valid models: "
                                          r"figure2, mlp$"):
        reg.get("vit")
    with pytest.raises(ConfigError, match="unknown model 3;"):
        reg.get(3)
    with pytest.raises(ValueError, match="model 'mlp' is already registered"):
        reg.register("mlp", 1)
    assert reg.get("mlp") == 1


def test_an_empty_registry_says_so():
    with pytest.raises(ValueError, match=r"^unknown backend 'tree'; valid backends: none$"):
        Registry("backend").get("tree")
