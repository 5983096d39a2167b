"""Vocab, generated sequence tasks and the docstring corpus."""
import inspect
import string

import numpy as np
import pytest

from scratchnet.data import (DataLoader, Vocab, addition_task, char_corpus, copy_task, lm_batches,
                             pad_collate, reverse_task, sort_task)


def test_vocab_round_trip_and_specials():
    v = Vocab("abc")
    assert len(v) == 6 and (v.pad, v.bos, v.eos) == (0, 1, 2)
    ids = v.encode("cab", bos=True, eos=True)
    assert ids.dtype == np.int64 and ids.tolist() == [1, 5, 3, 4, 2]
    assert v.decode(ids) == "cab"
    assert v.decode([5, 3, 2, 4, 4]) == "ca"                    # stops at </s>
    assert v.decode([5, 0, 2], strip=False) == "c<pad></s>"
    with pytest.raises(KeyError, match="'z' is not in the vocabulary"):
        v.encode("az")
    with pytest.raises(ValueError, match="repeated"):
        Vocab("aba")


@pytest.mark.parametrize("task", [copy_task, reverse_task, sort_task])
def test_symbol_tasks_are_correct_and_seeded(task):
    data = task(200, min_len=2, max_len=9, n_symbols=12, seed=4)
    lengths = [len(s) for s, _ in data]
    assert min(lengths) == 2 and max(lengths) == 9                  # variable lengths in range
    for src, tgt in data:
        assert src.dtype == np.int64 and tgt[-1] == data.vocab.eos  # target ends with </s>
        assert src.min() >= 3 and src.max() < 3 + 12                # no specials in the source
        expected = {copy_task: src, reverse_task: src[::-1], sort_task: np.sort(src)}[task]
        np.testing.assert_array_equal(tgt[:-1], expected)
    again = task(200, min_len=2, max_len=9, n_symbols=12, seed=4)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(data, again))
    other = task(200, min_len=2, max_len=9, n_symbols=12, seed=5)
    assert not all(np.array_equal(a[0], b[0]) for a, b in zip(data, other))


def test_reverse_task_text():
    data = reverse_task(20, eos=False, seed=0)
    for i in range(len(data)):
        src, tgt = data.text(i)
        assert tgt == src[::-1] and len(data[i][1]) == len(data[i][0])


def test_sort_task_text_order_is_character_order():
    data = sort_task(50, n_symbols=36, seed=1)
    for i in range(len(data)):
        src, tgt = data.text(i)
        assert tgt == "".join(sorted(src))


def test_addition_task_is_correct():
    data = addition_task(300, max_digits=3, seed=0)
    sizes = set()
    for i in range(len(data)):
        src, tgt = data.text(i)
        a, b = src.split("+")
        assert int(a) + int(b) == int(tgt)
        assert a == str(int(a)) and b == str(int(b))                 # no leading zeros
        sizes.add(len(a))
        assert data[i][1][-1] == data.vocab.eos
    assert sizes == {1, 2, 3}
    assert data.text(0) == addition_task(1, max_digits=3, seed=0).text(0)


def test_tasks_batch_with_pad_collate():
    data = copy_task(10, min_len=1, max_len=5, seed=0)
    src, src_len, tgt, tgt_len = next(iter(DataLoader(data, batch_size=10, collate_fn=pad_collate)))
    assert src.shape == (10, int(src_len.numpy().max()))
    np.testing.assert_array_equal(tgt_len.numpy(), src_len.numpy() + 1)   # + </s>
    for i, (s, _) in enumerate(data):
        np.testing.assert_array_equal(src.numpy()[i, :len(s)], s)
        assert (src.numpy()[i, len(s):] == data.vocab.pad).all()


def test_char_corpus_is_deterministic_and_split():
    c = char_corpus(max_chars=20000, valid_fraction=0.1)
    d = char_corpus(max_chars=20000, valid_fraction=0.1)
    assert len(c.text) == 20000
    assert c.text == d.text and c.vocab.itos == d.vocab.itos
    assert len(c.train) == 18000 and len(c.valid) == 2000
    np.testing.assert_array_equal(np.concatenate([c.train, c.valid]), c.vocab.encode(c.text))
    assert c.vocab.decode(c.train[:60]) == c.text[:60]
    assert c.text.startswith(inspect.getdoc(string))                 # the first module's docstring
    assert "\n" in c.text and all(32 <= ord(ch) < 127 or ch in "\n\t" for ch in c.text)
    full = char_corpus(max_chars=None)
    assert len(full.text) > 100_000 and full.text.startswith(c.text)


def test_lm_batches_targets_are_next_characters():
    ids = np.arange(103)
    batches = lm_batches(ids, batch_size=4, seq_len=5)
    rows = ids[:100].reshape(4, 25)
    x0, y0 = batches[0]
    np.testing.assert_array_equal(x0, rows[:, :5])
    np.testing.assert_array_equal(y0, rows[:, 1:6])
    np.testing.assert_array_equal(np.concatenate([x for x, _ in batches], axis=1), rows[:, :24])
    assert batches[-1][0].shape == (4, 4)                              # the short last window
    with pytest.raises(ValueError, match="lm_batches"):
        lm_batches(np.arange(3), batch_size=4, seq_len=2)
