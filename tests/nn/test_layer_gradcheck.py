"""Every layer, gradient-checked in float64 with respect to its inputs and all
its parameters (registry-driven: scratchnet/registry/layers.py), and no Module
class exported from scratchnet.nn without a case."""
import pytest

from scratchnet.registry.layers import LAYER_CASES, check_layer, layer_function, uncovered_layers


def test_every_layer_has_a_case():
    missing = uncovered_layers()
    assert not missing, f"layers without a case in scratchnet/registry/layers.py: {missing}"


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.name)
def test_layer_gradcheck(case):
    _, tensors = layer_function(case)
    assert any(t.requires_grad for t in tensors), f"{case.name}: nothing to differentiate"
    assert check_layer(case)
