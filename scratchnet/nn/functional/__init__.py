"""scratchnet.nn.functional: the stateless layer ops (like torch.nn.functional)."""
from ...ops import relu, sigmoid, tanh  # noqa: F401
from ...ops import (elu, gelu, leaky_relu, log_softmax, logsumexp, softmax,  # noqa: F401
                    softplus)
from .linear import linear  # noqa: F401
from .conv import conv2d, conv_transpose2d  # noqa: F401
from .pooling import avg_pool2d, max_pool2d  # noqa: F401
from .upsample import interpolate  # noqa: F401
from .masked_conv import masked_conv2d  # noqa: F401
from .activation import logsigmoid  # noqa: F401
from .noise import dropout  # noqa: F401
from .sparse import embedding, one_hot  # noqa: F401
from .loss_regression import gaussian_nll_loss, l1_loss, mse_loss  # noqa: F401
from .loss_binary import binary_cross_entropy, binary_cross_entropy_with_logits  # noqa: F401
from .loss_classification import cross_entropy, nll_loss  # noqa: F401
from .loss_divergence import gaussian_kl, kl_div  # noqa: F401
from .sampling import reparameterize  # noqa: F401
from .rnn import gru_cell, gru_layer, lstm_cell, lstm_layer, recurrent, rnn_cell, rnn_layer  # noqa: F401,E501
