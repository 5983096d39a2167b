"""Checkpoints: scratchnet.serialization.save / load."""
import json
import os
import zipfile

import numpy as np
import pytest

import scratchnet as sn
from scratchnet import serialization
from scratchnet.serialization import CheckpointError, load, save


def _optimizer_like():
    rng = np.random.default_rng(0)
    return {
        "state": {
            0: {"step": 7, "exp_avg": sn.tensor(rng.standard_normal((3, 2)).astype(np.float32)),
                "exp_avg_sq": rng.random(4)},
            1: {"step": 7, "momentum_buffer": None},
        },
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                          "amsgrad": False, "params": [0, 1], "name": "all", "inf": float("inf")}],
        "counts": np.arange(5, dtype=np.int32),
        "mask": np.array([True, False]),
        "half": np.linspace(0, 1, 3).astype(np.float16),
        "big": 2**70,
        "scalar": np.float64(0.1),
        "empty": np.zeros((0, 3)),
        "w": sn.tensor(np.ones(2), requires_grad=True),
    }


def _assert_same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)                       # keys, key types and order
        assert [type(k) for k in a] == [type(k) for k in b]
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, sn.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


def test_round_trip_nested_optimizer_state(tmp_path):
    obj = _optimizer_like()
    save(obj, tmp_path / "opt.ckpt")
    assert os.listdir(tmp_path) == ["opt.ckpt"]        # exact name, no temp files left
    back = load(tmp_path / "opt.ckpt")
    _assert_same(obj, back)
    assert list(back["state"]) == [0, 1] and isinstance(list(back["state"])[0], int)
    assert isinstance(back["state"][0]["exp_avg"], sn.Tensor)          # Tensor stays Tensor
    assert isinstance(back["state"][0]["exp_avg_sq"], np.ndarray)      # array stays array
    assert back["state"][0]["exp_avg"].dtype == np.float32
    assert back["w"].requires_grad


def test_model_state_dict_round_trip_and_sn_save(tmp_path):
    sd = {"layer.weight": sn.randn(4, 3), "layer.bias": sn.zeros(4, dtype=np.float64)}
    path = tmp_path / "model.npz"
    (sn.save if hasattr(sn, "save") else save)(sd, path)
    back = (sn.load if hasattr(sn, "load") else load)(path)
    _assert_same(sd, back)


def test_header_is_json_inside_a_plain_npz(tmp_path):
    save({"x": np.ones(2)}, tmp_path / "c")
    with np.load(tmp_path / "c", allow_pickle=False) as z:
        assert set(z.files) == {"__header__", "a0"}
        header = json.loads(z["__header__"].tobytes())
    assert header["format"] == "scratchnet-checkpoint" and header["version"] == 1
    assert header["arrays"]["a0"] == {"dtype": "<f8", "shape": [2]}
    assert len(header["sha256"]) == 64


def test_save_refuses_unstorable_values(tmp_path):
    with pytest.raises(TypeError, match=r"save: obj\['a'\]\[1\].*dtype object"):
        save({"a": [1, np.array([None, 2], dtype=object)]}, tmp_path / "x")
    with pytest.raises(TypeError, match=r"key .* keys must be str or int"):
        save({(1, 2): 3}, tmp_path / "x")
    with pytest.raises(TypeError, match="set"):
        save({"a": {1, 2}}, tmp_path / "x")
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="cycle"):
        save(loop, tmp_path / "x")
    with pytest.raises(FileNotFoundError, match="save: .*does not exist"):
        save({"a": 1}, tmp_path / "no_such_dir" / "x")
    assert os.listdir(tmp_path) == []


def test_failed_save_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    save({"v": np.arange(3)}, path)
    before = path.read_bytes()

    def broken_writer(f, members):
        f.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_npz", broken_writer)
    with pytest.raises(OSError, match="disk full"):
        save({"v": np.arange(10)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt"]
    monkeypatch.undo()
    np.testing.assert_array_equal(load(path)["v"], np.arange(3))


def test_truncated_file(tmp_path):
    save(_optimizer_like(), tmp_path / "c")
    raw = (tmp_path / "c").read_bytes()
    for cut in (len(raw) - 10, len(raw) // 2, 10):
        (tmp_path / "t").write_bytes(raw[:cut])
        with pytest.raises(CheckpointError, match=r"load: '.*t' is truncated or damaged"):
            load(tmp_path / "t")


def test_flipped_byte_is_caught(tmp_path):
    save({"x": np.zeros(1000)}, tmp_path / "c")
    raw = bytearray((tmp_path / "c").read_bytes())
    raw[len(raw) // 2] ^= 0xFF                         # inside the array data
    (tmp_path / "c").write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=r"'.*c'.*(SHA-256|damaged)"):
        load(tmp_path / "c")


def _repack(src, dst, change):
    """Rewrite an archive with member contents changed by ``change(name, array)``
    (a well-formed zip, so only the checkpoint's own checks can notice)."""
    with np.load(src, allow_pickle=False) as z:
        members = {n: change(n, z[n]) for n in z.files}
    np.savez(dst, **members)


def test_tampered_values_fail_the_checksum(tmp_path):
    save({"x": np.arange(4.0)}, tmp_path / "c.npz")
    _repack(tmp_path / "c.npz", tmp_path / "t.npz", lambda n, a: a + 1 if n == "a0" else a)
    with pytest.raises(CheckpointError, match=r"t\.npz.*failed its SHA-256 check"):
        load(tmp_path / "t.npz")

    def edit_header(n, a):
        if n != "__header__":
            return a
        h = json.loads(a.tobytes())
        h["tree"]["items"][0][1] = "y"                 # rename a key
        return np.frombuffer(json.dumps(h).encode(), np.uint8)

    _repack(tmp_path / "c.npz", tmp_path / "h.npz", edit_header)
    with pytest.raises(CheckpointError, match="SHA-256"):
        load(tmp_path / "h.npz")
    _repack(tmp_path / "c.npz", tmp_path / "s.npz", lambda n, a: a[:2] if n == "a0" else a)
    with pytest.raises(CheckpointError, match=r"array a0 is <f8 \[2\], the header says <f8 \[4\]"):
        load(tmp_path / "s.npz")


def test_wrong_file_types(tmp_path):
    (tmp_path / "text.ckpt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match=r"text\.ckpt.*not an \.npz"):
        load(tmp_path / "text.ckpt")
    np.save(tmp_path / "plain.npy", np.ones(3))
    with pytest.raises(CheckpointError, match="not an .npz"):
        load(tmp_path / "plain.npy")
    np.savez(tmp_path / "other.npz", x=np.ones(3))
    with pytest.raises(CheckpointError, match=r"without a '__header__'.*not written by scratchnet"):
        load(tmp_path / "other.npz")
    with zipfile.ZipFile(tmp_path / "junk.zip", "w") as zf:
        zf.writestr("__header__.npy", b"garbage")
    with pytest.raises(CheckpointError, match="junk.zip"):
        load(tmp_path / "junk.zip")
    with pytest.raises(FileNotFoundError, match="missing.ckpt"):
        load(tmp_path / "missing.ckpt")


def test_load_never_unpickles(tmp_path, monkeypatch):
    """An archive holding an object array is refused, and pickle is never called."""
    import pickle

    save({"x": np.ones(2)}, tmp_path / "c.npz")
    _repack(tmp_path / "c.npz", tmp_path / "evil.npz",
            lambda n, a: np.array([{"payload": 1}], dtype=object) if n == "a0" else a)

    def no_unpickling(*args, **kwargs):
        raise AssertionError("load tried to unpickle")

    monkeypatch.setattr(pickle, "load", no_unpickling)
    monkeypatch.setattr(pickle, "loads", no_unpickling)
    with pytest.raises(CheckpointError, match=r"evil\.npz.*object array.*never unpickles"):
        load(tmp_path / "evil.npz")
