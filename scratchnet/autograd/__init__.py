"""Autograd: the graph, the backward sweep, and the tools around them."""
from .anomaly import detect_anomaly, set_detect_anomaly
from .custom import Function
from .engine import backward, grad
from .function import OpError
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["Function", "backward", "grad", "no_grad", "enable_grad", "is_grad_enabled",
           "set_grad_enabled", "detect_anomaly", "set_detect_anomaly", "OpError"]
