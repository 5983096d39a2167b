"""Collate functions: turn a list of dataset items into one batch.

``default_collate`` stacks equally shaped items along a new first axis,
``pad_collate`` pads variable-length sequences to the longest one.
Both follow one dtype rule: integer data becomes int64, float (and bool)
data keeps its dtype; Python ints become int64, Python floats float64.
"""
import numbers

import numpy as np

from ._arrays import array_module, as_array, batch_dtype, is_cupy, is_tensor, to_tensor


def finish(a):
    """Apply the dtype rule to a batch array and wrap it as a Tensor."""
    dt = batch_dtype(a.dtype)
    if a.dtype != dt:
        a = a.astype(dt)
    return to_tensor(a)


def _is_leaf(x):
    return is_tensor(x) or is_cupy(x) or isinstance(x, (np.ndarray, np.generic, numbers.Number))


def _stack(name, arrays):
    """xs[0], ..., xs[N-1] of equal shape S  ->  one array of shape (N, *S)."""
    shapes = {tuple(a.shape) for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"{name}: cannot stack items of different shapes {sorted(shapes)}; "
                         "for variable-length sequences use collate_fn=pad_collate")
    return array_module(arrays[0]).stack(arrays)


def default_collate(batch):
    """Stack a list of items into a batch.

    * arrays / Tensors / numbers  ->  one Tensor of shape (N, *item_shape);
    * tuples or lists of fields   ->  a tuple with one collated batch per field;
    * dicts                       ->  a dict with one collated batch per key;
    * strings                     ->  the list of strings, unchanged.
    """
    batch = list(batch)
    if not batch:
        raise ValueError("default_collate: got an empty batch")
    first = batch[0]
    if isinstance(first, str):
        return batch
    if _is_leaf(first):
        return finish(_stack("default_collate", [as_array(x) for x in batch]))
    if isinstance(first, dict):
        keys = list(first)
        if any(set(item) != set(keys) for item in batch):
            raise ValueError("default_collate: dict items in one batch must have the same keys")
        return {k: default_collate([item[k] for item in batch]) for k in keys}
    if isinstance(first, (tuple, list)):
        width = len(first)
        if any(len(item) != width for item in batch):
            raise ValueError("default_collate: tuple items in one batch must all have "
                             f"{width} fields, got lengths {sorted({len(i) for i in batch})}")
        return tuple(default_collate([item[k] for item in batch]) for k in range(width))
    raise TypeError(f"default_collate: cannot collate items of type {type(first).__name__}")


def _pad(name, seqs, padding_value):
    """Sequences s_i of shape (T_i, *F) -> array P of shape (N, T_max, *F) and lengths T_i,
    with P[i, t] = s_i[t] for t < T_i and P[i, t] = padding_value for t >= T_i."""
    arrays = [as_array(s) for s in seqs]
    for a in arrays:
        if a.ndim == 0:
            raise ValueError(f"{name}: every sequence needs a time axis, got a 0-d item "
                             f"(dtype {a.dtype})")
    features = {tuple(a.shape[1:]) for a in arrays}
    if len(features) > 1:
        raise ValueError(f"{name}: sequences may differ in length only; their feature shapes "
                         f"differ: {sorted(features)}")
    xp = array_module(arrays[0])
    lengths = np.array([a.shape[0] for a in arrays], dtype=np.int64)
    dtype = batch_dtype(np.result_type(*[a.dtype for a in arrays]))
    out = xp.full((len(arrays), int(lengths.max()), *arrays[0].shape[1:]), padding_value, dtype=dtype)
    for i, a in enumerate(arrays):
        out[i, : a.shape[0]] = a
    return out, lengths


def pad_collate(batch, padding_value=0, batch_first=True):
    """Pad a batch of variable-length sequences.

    Each item is either

    * a sequence: an array, Tensor or list of shape (T_i, *F); the result is
      ``(padded, lengths)``;
    * a pair ``(seq, target)`` (a tuple of length 2) with a scalar target
      (e.g. a class label): ``(padded, lengths, targets)``, targets of shape (N,);
    * a pair ``(seq, target)`` whose target is itself a sequence of shape
      (U_i, *G): ``(padded, lengths, padded_targets, target_lengths)``.

    ``padded`` has shape (N, T_max, *F) (or (T_max, N, *F) with
    ``batch_first=False``; targets are laid out the same way), padded with
    ``padding_value`` past each sequence's end; ``lengths`` is an int64 Tensor
    of the T_i.  Integer data comes back as int64, float data keeps its dtype.
    """
    batch = list(batch)
    if not batch:
        raise ValueError("pad_collate: got an empty batch")
    pairs = isinstance(batch[0], tuple) and len(batch[0]) == 2
    if pairs and not all(isinstance(b, tuple) and len(b) == 2 for b in batch):
        raise ValueError("pad_collate: either every item is a (seq, target) pair or none is")

    def layout(p):
        return p if batch_first else array_module(p).ascontiguousarray(p.swapaxes(0, 1))

    seqs = [b[0] for b in batch] if pairs else batch
    padded, lengths = _pad("pad_collate", seqs, padding_value)
    out = (finish(layout(padded)), finish(lengths))
    if not pairs:
        return out
    targets = [as_array(b[1]) for b in batch]
    if all(t.ndim == 0 for t in targets):
        return out + (finish(_stack("pad_collate", targets)),)
    padded_t, lengths_t = _pad("pad_collate (targets)", targets, padding_value)
    return out + (finish(layout(padded_t)), finish(lengths_t))
