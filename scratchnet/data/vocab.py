"""Vocab: a two-way map between tokens (here: characters) and integer ids.

ids 0, 1, 2 are the special tokens <pad>, <s> (start) and </s> (end);
the ordinary tokens follow from id 3 in the order given.
"""
import numpy as np

SPECIALS = ("<pad>", "<s>", "</s>")


class Vocab:
    """token <-> id.  ``Vocab("abc")``: <pad>=0, <s>=1, </s>=2, a=3, b=4, c=5.

    tokens  iterable of distinct tokens (a string gives one token per character).
    sep     string put between tokens by ``decode`` ("" for characters).
    """

    def __init__(self, tokens, sep=""):
        self.itos = list(SPECIALS) + list(tokens)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            dup = sorted({t for t in self.itos if self.itos.count(t) > 1})
            raise ValueError(f"Vocab: tokens must be distinct and must not repeat the specials "
                             f"{SPECIALS}; repeated: {dup}")
        self.sep = sep
        self.pad, self.bos, self.eos = 0, 1, 2

    def __len__(self):
        return len(self.itos)

    def __repr__(self):
        return f"Vocab({len(self)} tokens: {self.itos[:13]}{'...' if len(self) > 13 else ''})"

    def encode(self, tokens, bos=False, eos=False):
        """tokens -> int64 ids, optionally framed as [<s>, ..., </s>]."""
        try:
            ids = [self.stoi[t] for t in tokens]
        except KeyError as e:
            raise KeyError(f"Vocab.encode: token {e.args[0]!r} is not in the vocabulary") from None
        return np.array([self.bos] * bos + ids + [self.eos] * eos, dtype=np.int64)

    def decode(self, ids, strip=True):
        """ids -> text.  With ``strip`` the text ends at the first </s> and
        <pad>/<s> are dropped (what a generated sequence needs)."""
        out = []
        for i in np.asarray(ids).reshape(-1).tolist():
            if not 0 <= i < len(self.itos):
                raise IndexError(f"Vocab.decode: id {i} out of range for {len(self)} tokens")
            if strip and i == self.eos:
                break
            if strip and i in (self.pad, self.bos):
                continue
            out.append(self.itos[i])
        return self.sep.join(out)
