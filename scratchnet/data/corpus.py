"""A character-level text corpus built offline from Python's own docstrings.

The text is the docstrings of a fixed list of standard-library modules, in a
fixed order: each module's docstring, then the docstrings of its public
classes and functions (those defined in that module) sorted by name, and of
each class's public methods sorted by name.  Characters outside printable
ASCII are dropped.  The text depends only on the Python version.
"""
import importlib
import inspect
import string
import warnings

import numpy as np

from .vocab import Vocab

MODULES = ("string", "textwrap", "json", "csv", "argparse", "collections", "functools",
           "itertools", "heapq", "bisect", "random", "statistics", "fractions", "decimal",
           "difflib", "calendar", "datetime", "pathlib", "shutil", "tempfile", "logging",
           "unittest", "inspect", "dataclasses", "enum", "email.message", "html.parser",
           "urllib.parse", "http.client", "zipfile", "tarfile", "configparser", "pprint",
           "threading", "subprocess", "socket", "ftplib", "smtplib", "imaplib")
ALLOWED = set(string.printable) - set("\x0b\x0c\r")  # printable ASCII, tab and newline


def _docstrings(module):
    """Docstrings of a module and of what it defines, in a deterministic order."""
    docs = [inspect.getdoc(module)]
    for name in sorted(vars(module)):
        obj = getattr(module, name)
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj):
            docs.append(inspect.getdoc(obj) if obj.__doc__ else None)
        if inspect.isclass(obj):
            for meth in sorted(vars(obj)):
                fn = vars(obj)[meth]
                if not meth.startswith("_") and inspect.isfunction(fn) and fn.__doc__:
                    docs.append(inspect.getdoc(fn))
    return [d for d in docs if d]


def corpus_text(modules=MODULES):
    """The corpus as one string: docstrings separated by blank lines."""
    parts = []
    with warnings.catch_warnings():  # deprecated names warn when touched; their docs are still text
        warnings.simplefilter("ignore")
        for name in modules:
            parts.extend(_docstrings(importlib.import_module(name)))
    text = "\n\n".join(parts)
    return "".join(c for c in text if c in ALLOWED)


class CharCorpus:
    """A character corpus: ``train`` and ``valid`` are int64 id arrays, ``vocab``
    maps ids to characters, ``text`` is the whole (possibly cut) text."""

    def __init__(self, text, valid_fraction):
        self.text = text
        self.vocab = Vocab(sorted(set(text)))
        ids = self.vocab.encode(text)
        cut = len(ids) - int(round(valid_fraction * len(ids)))
        self.train, self.valid = ids[:cut], ids[cut:]

    def __repr__(self):
        return f"CharCorpus({len(self.train)} train / {len(self.valid)} valid chars, {len(self.vocab)} ids)"


def char_corpus(max_chars=500_000, valid_fraction=0.1, modules=MODULES):
    """Build the docstring corpus: its first ``max_chars`` characters (None: all),
    the first (1 - valid_fraction) of them for training and the rest (a
    contiguous tail) for validation.  The Vocab holds the specials plus the
    characters of the whole text, in sorted order."""
    if not 0 <= valid_fraction < 1:
        raise ValueError(f"char_corpus: valid_fraction must lie in [0, 1), got {valid_fraction}")
    if max_chars is not None and max_chars < 1:
        raise ValueError(f"char_corpus: max_chars must be positive or None, got {max_chars}")
    text = corpus_text(tuple(modules))
    if not text:
        raise RuntimeError("char_corpus: the modules have no docstrings (is Python running with -OO?)")
    return CharCorpus(text[:max_chars], valid_fraction)


def lm_batches(ids, batch_size, seq_len):
    """Cut a long id stream into language-model batches.

    The stream is trimmed to a multiple of batch_size and laid out as
    ``batch_size`` parallel rows S of shape (B, T_total).  Window k gives
    inputs S[:, kL : kL+L] and targets S[:, kL+1 : kL+L+1] (the next
    character), so the rows continue from one window to the next (for carrying
    an RNN state).  Returns a list of (inputs, targets) int64 array pairs.
    """
    ids = np.asarray(ids, dtype=np.int64)
    total = (len(ids) // batch_size) * batch_size
    if batch_size < 1 or seq_len < 1 or total // batch_size < 2:
        raise ValueError(f"lm_batches: need batch_size >= 1, seq_len >= 1 and at least 2 ids per row; "
                         f"got {len(ids)} ids, batch_size={batch_size}, seq_len={seq_len}")
    rows = ids[:total].reshape(batch_size, -1)
    steps = rows.shape[1] - 1  # the last column only ever serves as a target
    windows = []
    for k in range(0, steps, seq_len):
        end = min(k + seq_len, steps)
        windows.append((rows[:, k:end], rows[:, k + 1:end + 1]))
    return windows
