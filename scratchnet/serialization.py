"""Checkpoints: ``save(obj, path)`` and ``load(path)`` without pickle.

A checkpoint is an ordinary ``.npz`` archive (NumPy's zip of ``.npy`` files):

    __header__   uint8 array holding UTF-8 JSON:
                 {"format": "scratchnet-checkpoint", "version": 1,
                  "tree":   the nested structure, leaves pointing at arrays,
                  "arrays": {name: {"dtype": ..., "shape": [...]}},
                  "sha256": checksum (below)}
    a0, a1, ...  the array leaves, one .npy member each

``obj`` may nest dicts (str or int keys, order kept), lists and tuples of
None, bools, ints, floats, strings, NumPy scalars, NumPy arrays and
scratchnet Tensors: a model's ``state_dict()`` or an optimizer's
``{'state': {0: {...}}, 'param_groups': [...]}``.  A Tensor leaf comes back as
a Tensor (with its requires_grad flag), an array leaf as a NumPy array.

Integrity: sha256 = SHA-256( canonical JSON of the header without "sha256"
|| bytes of a0 || bytes of a1 || ... ), so a change to any value, dtype,
shape or structure is caught.  ``load`` reads with ``allow_pickle=False``
only: it never unpickles anything.  ``save`` writes a temporary file in the
target's directory, flushes and fsyncs it, then ``os.replace``s it over the
target, so a crash leaves either the old file or the new one, never a mix.
"""
import contextlib
import hashlib
import json
import os
import secrets
import zipfile
import zlib

import numpy as np

from .backend import is_cupy

FORMAT, VERSION = "scratchnet-checkpoint", 1
HEADER = "__header__"
STORABLE_KINDS = "biufc"  # bool, signed/unsigned int, float, complex


class CheckpointError(ValueError):
    """A file is not a valid scratchnet checkpoint (truncated, tampered, malformed)."""


# --------------------------------------------------------------------- encode

def _is_tensor(x):
    from .tensor import Tensor

    return isinstance(x, Tensor)


def _store(arrays, array, where):
    """Keep ``array`` as the next leaf a<k>; return its name."""
    if array.dtype.kind not in STORABLE_KINDS:
        raise TypeError(f"save: {where} has dtype {array.dtype} (shape {array.shape}); only bool, "
                        "integer, float and complex arrays can be saved (object arrays would need pickle)")
    name = f"a{len(arrays)}"
    arrays[name] = array
    return name


def _encode(x, arrays, where, active):
    """The JSON node describing ``x``; its arrays are appended to ``arrays``."""
    if x is None:
        return {"t": "none"}
    if isinstance(x, np.generic):  # before float: np.float64 is a subclass of float
        return {"t": "scalar", "a": _store(arrays, np.asarray(x), where)}
    if isinstance(x, bool):
        return {"t": "bool", "v": x}
    if isinstance(x, int):
        return {"t": "int", "v": x}
    if isinstance(x, float):
        return {"t": "float", "v": repr(x)}  # repr round-trips exactly, inf and nan included
    if isinstance(x, str):
        return {"t": "str", "v": x}
    if _is_tensor(x):
        return {"t": "tensor", "a": _store(arrays, x.numpy(), where), "requires_grad": x.requires_grad}
    if isinstance(x, np.ndarray) or is_cupy(x):
        return {"t": "array", "a": _store(arrays, x.get() if is_cupy(x) else x, where)}
    if isinstance(x, (dict, list, tuple)):
        if id(x) in active:
            raise ValueError(f"save: {where} contains itself (a reference cycle)")
        active.add(id(x))
        try:
            if isinstance(x, dict):
                items = []
                for k, v in x.items():
                    if isinstance(k, bool) or not isinstance(k, (str, int)):
                        raise TypeError(f"save: {where} has a key {k!r} of type {type(k).__name__}; "
                                        "keys must be str or int")
                    items.append(["s" if isinstance(k, str) else "i", k,
                                  _encode(v, arrays, f"{where}[{k!r}]", active)])
                return {"t": "dict", "items": items}
            return {"t": type(x).__name__,
                    "items": [_encode(v, arrays, f"{where}[{i}]", active) for i, v in enumerate(x)]}
        finally:
            active.discard(id(x))
    raise TypeError(f"save: cannot store {where} of type {type(x).__name__}; allowed are dicts, lists, "
                    "tuples, None, bool, int, float, str, NumPy arrays/scalars and Tensors")


def _digest(header, arrays):
    """SHA-256 over the header (without its checksum) and then every array's bytes."""
    h = hashlib.sha256()
    h.update(json.dumps({k: v for k, v in header.items() if k != "sha256"},
                        sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(arrays, key=lambda n: int(n[1:])):
        h.update(np.ascontiguousarray(arrays[name]).tobytes())
    return h.hexdigest()


def _write_npz(f, members):
    """Write the archive into the open file ``f`` (a seam for the atomicity test)."""
    np.savez(f, **members)


def save(obj, path):
    """Write ``obj`` (nested dicts/lists of arrays, Tensors and plain values) to ``path``.

    The file gets exactly the name given (no '.npz' is appended).  Nothing is
    written when ``obj`` holds something that cannot be stored."""
    path = os.fspath(path)
    arrays = {}
    tree = _encode(obj, arrays, "obj", set())
    header = {"format": FORMAT, "version": VERSION, "tree": tree,
              "arrays": {n: {"dtype": a.dtype.str, "shape": list(a.shape)} for n, a in arrays.items()}}
    header["sha256"] = _digest(header, arrays)
    members = {HEADER: np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8), **arrays}

    atomic_write(path, lambda f: _write_npz(f, members), who="save")


def atomic_write(path, write, who="write"):
    """Write a file all-or-nothing: ``write(f)`` fills a temporary file in the same
    folder, which is flushed, fsynced and renamed over ``path``.  A failure
    leaves any previous file intact and no temporary file behind."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{who}: cannot write {path!r}: directory {directory!r} does not exist")
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # mode honours the umask
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX)
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def write_json(obj, path):
    """Write ``obj`` as indented JSON, atomically (results files, benchmark summaries)."""
    text = json.dumps(obj, indent=2, default=str).encode("utf-8")
    atomic_write(path, lambda f: f.write(text), who="write_json")


# --------------------------------------------------------------------- decode

def _read_members(path):
    """Header dict and arrays of the archive at ``path``; CheckpointError if unreadable."""
    with open(path, "rb") as f:
        start = f.read(4)
    if start != b"PK\x03\x04":
        raise CheckpointError(f"load: {path!r} is not a scratchnet checkpoint: not an .npz (zip) "
                              f"archive (it starts with {start!r})")
    try:
        with np.load(path, allow_pickle=False) as z:
            if HEADER not in z.files:
                raise CheckpointError(f"load: {path!r} is an .npz archive without a '{HEADER}' entry; "
                                      "it was not written by scratchnet.save")
            raw = z[HEADER]
            arrays = {n: z[n] for n in z.files if n != HEADER}
    except CheckpointError:
        raise
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise CheckpointError(f"load: {path!r} contains an object array, which would need "
                                  "unpickling; refused (load never unpickles)") from None
        raise CheckpointError(f"load: {path!r} is damaged or malformed ({e})") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError) as e:
        raise CheckpointError(f"load: {path!r} is truncated or damaged ({type(e).__name__}: {e})") from None
    not_npy = [n for n, a in [(HEADER, raw), *arrays.items()] if not isinstance(a, np.ndarray)]
    if not_npy:
        raise CheckpointError(f"load: {path!r} is malformed: members {not_npy} are not .npy arrays")
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"load: {path!r} has a malformed header entry ({raw.dtype}, {raw.shape})")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"load: {path!r} has a header that is not valid JSON ({e})") from None
    return header, arrays


def _check(path, header, arrays):
    """Format, version, array inventory and checksum."""
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"load: {path!r} is not a scratchnet checkpoint (header format "
                              f"{header.get('format') if isinstance(header, dict) else header!r})")
    if header.get("version") != VERSION:
        raise CheckpointError(f"load: {path!r} has checkpoint version {header.get('version')!r}; "
                              f"this scratchnet reads version {VERSION}")
    listed = header.get("arrays")
    if not isinstance(listed, dict) or set(listed) != set(arrays):
        raise CheckpointError(f"load: {path!r} is malformed: the header lists arrays "
                              f"{sorted(listed) if isinstance(listed, dict) else listed!r}, the archive "
                              f"holds {sorted(arrays)}")
    for name, meta in listed.items():
        a = arrays[name]
        if [a.dtype.str, list(a.shape)] != [meta.get("dtype"), meta.get("shape")]:
            raise CheckpointError(f"load: {path!r} is malformed: array {name} is {a.dtype.str} "
                                  f"{list(a.shape)}, the header says {meta.get('dtype')} {meta.get('shape')}")
    if _digest(header, arrays) != header.get("sha256"):
        raise CheckpointError(f"load: {path!r} failed its SHA-256 check: the file was modified or "
                              "corrupted after it was written")


def _decode(node, arrays, wrap):
    t = node["t"]
    if t == "none":
        return None
    if t in ("bool", "int", "str"):
        return {"bool": bool, "int": int, "str": str}[t](node["v"])
    if t == "float":
        return float(node["v"])
    if t == "array":
        return arrays[node["a"]]
    if t == "scalar":
        return arrays[node["a"]][()]
    if t == "tensor":
        return wrap(arrays[node["a"]], node["requires_grad"])
    if t == "dict":
        return {(k if kind == "s" else int(k)): _decode(v, arrays, wrap) for kind, k, v in node["items"]}
    if t in ("list", "tuple"):
        items = [_decode(v, arrays, wrap) for v in node["items"]]
        return items if t == "list" else tuple(items)
    raise ValueError(f"unknown node type {t!r}")


def load(path, device="cpu"):
    """Read a checkpoint written by ``save``.

    Tensor leaves come back as Tensors on ``device`` ("cpu" or "cuda"), array
    leaves as NumPy arrays.  A missing file raises FileNotFoundError; a
    truncated, tampered or malformed one raises CheckpointError (a
    ValueError) naming the file and the problem."""
    from . import backend
    from .tensor import Tensor

    path = os.fspath(path)
    device = backend.normalize_device(device)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: checkpoint {path!r} not found")
    header, arrays = _read_members(path)
    _check(path, header, arrays)

    def wrap(a, requires_grad):
        return Tensor(backend.to_device(a, device) if device != "cpu" else a, requires_grad=requires_grad)

    try:
        return _decode(header["tree"], arrays, wrap)
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"load: {path!r} has a malformed structure in its header ({e!r})") from None
