"""scratchnet.nn: layers, losses and initialisation, mirroring torch.nn."""
from . import functional  # noqa: F401
from . import init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .parameter import Parameter  # noqa: F401
