"""scratchnet.nn.utils.convert: state dicts to and from PyTorch."""
import numpy as np
import pytest

import scratchnet as sn
from scratchnet.nn.utils.convert import from_torch, to_torch

torch = pytest.importorskip("torch")


def test_from_torch_copies_values_order_and_dtypes():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    sd = model.state_dict()
    ours = from_torch(sd)
    assert list(ours) == list(sd)                        # same keys, same order
    for name, t in sd.items():
        assert isinstance(ours[name], sn.Tensor)
        assert ours[name].dtype == t.numpy().dtype       # float32 weights, int64 num_batches_tracked
        np.testing.assert_array_equal(ours[name].numpy(), t.numpy())
    assert ours["1.num_batches_tracked"].dtype == np.int64
    ours["0.weight"].data[0, 0] = 123.0                  # a copy: torch's weight is untouched
    assert model[0].weight[0, 0].item() != 123.0


def test_to_torch_loads_into_a_torch_module_and_matches_outputs():
    torch.manual_seed(1)
    src = torch.nn.Linear(5, 2).double()
    ours = from_torch(src.state_dict())
    ours["bias"] = ours["bias"].numpy() + 1.0            # plain arrays are accepted too
    back = to_torch(ours)
    assert list(back) == ["weight", "bias"]
    assert back["weight"].dtype == torch.float64 and not back["weight"].requires_grad
    dst = torch.nn.Linear(5, 2).double()
    dst.load_state_dict(back)
    x = torch.randn(3, 5, dtype=torch.float64)
    # y = x W^T + b, with b shifted by one
    np.testing.assert_allclose(dst(x).detach().numpy(), (src(x) + 1.0).detach().numpy(), rtol=1e-12)
    back["weight"][0, 0] = 7.0                           # a copy: our tensor is untouched
    assert ours["weight"].numpy()[0, 0] != 7.0


def test_convert_errors():
    with pytest.raises(TypeError, match="bfloat16.*float"):
        from_torch({"w": torch.zeros(2, dtype=torch.bfloat16)})
    with pytest.raises(TypeError, match="from_torch: entry 'w'"):
        from_torch({"w": [1.0]})
    with pytest.raises(TypeError, match="to_torch: entry 'w'"):
        to_torch({"w": [1.0]})
