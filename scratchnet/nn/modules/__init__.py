"""Layer modules."""
from .containers import Flatten, Identity, ModuleDict, ModuleList, Sequential  # noqa: F401
from .linear import Linear  # noqa: F401
from .module import Module  # noqa: F401
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: F401
