"""Layer modules."""
from .containers import Flatten, Identity, ModuleDict, ModuleList, Sequential  # noqa: F401
from .linear import Bilinear, Linear  # noqa: F401
from .conv import Conv2d, ConvTranspose2d, MaskedConv2d  # noqa: F401
from .pooling import AvgPool2d, MaxPool2d, Upsample  # noqa: F401
from .module import Module  # noqa: F401
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: F401
from .activation import (ELU, GELU, LeakyReLU, LogSigmoid, LogSoftmax, ReLU, Sigmoid,  # noqa: F401
                         Softmax, Softplus, Tanh)
from .dropout import Dropout  # noqa: F401
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, GaussianNLLLoss,  # noqa: F401
                   KLDivLoss, L1Loss, MSELoss, NLLLoss)
from .sparse import Embedding  # noqa: F401
