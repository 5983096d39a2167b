"""Generated sequence-to-sequence tasks for RNN / seq2seq models.

Every task draws from ``np.random.default_rng(seed)``, so a seed gives the
same data set.  Sequences are int64 token ids of a small character Vocab
(ids 0, 1, 2 = <pad>, <s>, </s>; then the task's characters from id 3).

    copy     x_1 ... x_L           ->  x_1 ... x_L
    reverse  x_1 ... x_L           ->  x_L ... x_1
    sort     x_1 ... x_L           ->  the x_i in ascending order
    addition "a+b" (decimal text)  ->  the decimal text of a + b

Sources carry no special tokens; targets end with </s> when ``eos`` is True
(the default), so a decoder can learn where to stop.  For teacher forcing
feed ``[<s>] + target[:-1]`` and predict ``target``.  Batch with
``DataLoader(task, batch_size=..., collate_fn=pad_collate)``, which pads with
<pad> = 0 and returns (src, src_lengths, tgt, tgt_lengths).
"""
import numpy as np

from .dataset import Dataset, _check_index
from .vocab import SPECIALS, Vocab

SYMBOLS = "0123456789abcdefghijklmnopqrstuvwxyz"  # ascending ids = ascending characters


class SequencePairs(Dataset):
    """A list of (source, target) int64 id sequences with their Vocab.
    ``pairs.text(i)`` gives item i decoded as strings."""

    def __init__(self, sources, targets, vocab):
        if len(sources) != len(targets):
            raise ValueError(f"SequencePairs: {len(sources)} sources but {len(targets)} targets")
        self.sources, self.targets, self.vocab = list(sources), list(targets), vocab

    def __len__(self):
        return len(self.sources)

    def __getitem__(self, index):
        i = _check_index("SequencePairs", index, len(self))
        return self.sources[i], self.targets[i]

    def text(self, index):
        src, tgt = self[index]
        return self.vocab.decode(src), self.vocab.decode(tgt)


def _check(name, n, min_len, max_len, n_symbols):
    if n < 0:
        raise ValueError(f"{name}: n must be >= 0, got {n}")
    if not 1 <= min_len <= max_len:
        raise ValueError(f"{name}: need 1 <= min_len <= max_len, got min_len={min_len}, max_len={max_len}")
    if not 1 <= n_symbols <= len(SYMBOLS):
        raise ValueError(f"{name}: n_symbols must lie in [1, {len(SYMBOLS)}], got {n_symbols}")


def _symbol_task(name, transform, n, min_len, max_len, n_symbols, eos, seed):
    """Random symbol strings s (length uniform in [min_len, max_len]) -> pairs (s, transform(s))."""
    _check(name, n, min_len, max_len, n_symbols)
    vocab = Vocab(SYMBOLS[:n_symbols])
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_len, max_len + 1, size=n)
    sources, targets = [], []
    for length in lengths:
        src = rng.integers(0, n_symbols, size=length) + len(SPECIALS)  # symbol k has id k + 3
        tgt = transform(src)
        sources.append(src.astype(np.int64))
        targets.append(np.concatenate([tgt, [vocab.eos]] if eos else [tgt]).astype(np.int64))
    return SequencePairs(sources, targets, vocab)


def copy_task(n, min_len=1, max_len=8, n_symbols=10, eos=True, seed=0):
    """Copy: the target is the source."""
    return _symbol_task("copy_task", lambda s: s.copy(), n, min_len, max_len, n_symbols, eos, seed)


def reverse_task(n, min_len=1, max_len=8, n_symbols=10, eos=True, seed=0):
    """Reverse: target[t] = source[L-1-t]."""
    return _symbol_task("reverse_task", lambda s: s[::-1].copy(), n, min_len, max_len, n_symbols, eos, seed)


def sort_task(n, min_len=1, max_len=8, n_symbols=10, eos=True, seed=0):
    """Sort: the target is the source sorted in ascending order."""
    return _symbol_task("sort_task", np.sort, n, min_len, max_len, n_symbols, eos, seed)


def _random_number(rng, max_digits):
    """A number whose digit count d is uniform in 1..max_digits, then uniform among d-digit numbers."""
    d = int(rng.integers(1, max_digits + 1))
    low = 0 if d == 1 else 10 ** (d - 1)
    return int(rng.integers(low, 10**d))


def addition_task(n, max_digits=3, eos=True, seed=0):
    """Addition as text: source "12+345", target "357" (vocabulary 0-9 and '+')."""
    if n < 0 or max_digits < 1 or max_digits > 18:
        raise ValueError(f"addition_task: need n >= 0 and 1 <= max_digits <= 18, got n={n}, "
                         f"max_digits={max_digits}")
    vocab = Vocab("0123456789+")
    rng = np.random.default_rng(seed)
    sources, targets = [], []
    for _ in range(n):
        a, b = _random_number(rng, max_digits), _random_number(rng, max_digits)
        sources.append(vocab.encode(f"{a}+{b}"))
        targets.append(vocab.encode(str(a + b), eos=eos))
    return SequencePairs(sources, targets, vocab)
