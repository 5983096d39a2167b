"""Every differentiable op is registered, and every registered case passes
forward-vs-NumPy, gradcheck, gradgradcheck and float32-vs-float64 checks."""
import pytest

from scratchnet import registry

registry.load_all()


def test_every_op_has_a_registry_case():
    missing = registry.uncovered_ops()
    assert not missing, ("ops without a registry case (add one in scratchnet/registry/): "
                         + ", ".join(f"{op.__module__}.{op.__name__}" for op in missing))


@pytest.mark.parametrize("case", registry.CASES, ids=lambda c: c.name)
def test_op_case(case):
    registry.check_case(case)
