"""Learning-rate schedules follow torch.optim.lr_scheduler epoch by epoch."""
import numpy as np
import pytest
import torch

import scratchnet as sn
from scratchnet import optim

SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
]


@pytest.mark.parametrize("name,kwargs", SCHEDULES, ids=lambda c: str(c))
def test_schedule_matches_torch(name, kwargs):
    w = sn.zeros(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.3)
    sched = getattr(optim.lr_scheduler, name)(opt, **kwargs)
    tw = torch.zeros(2, requires_grad=True)
    topt = torch.optim.SGD([tw], lr=0.3)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for _ in range(15):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
        assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)


def test_reduce_on_plateau_matches_torch():
    metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.89, 0.9, 0.91, 0.92, 0.93, 0.5, 0.6, 0.7, 0.8]
    w = sn.zeros(2, requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1,
                                                 min_lr=0.1)
    tw = torch.zeros(2, requires_grad=True)
    topt = torch.optim.SGD([tw], lr=1.0)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, factor=0.5, patience=2,
                                                        cooldown=1, min_lr=0.1)
    for m in metrics:
        sched.step(m)
        tsched.step(m)
        assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"])


def test_scheduler_state_dict_round_trip():
    w = sn.zeros(2, requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    s = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(3):
        s.step()
    state = s.state_dict()
    opt2 = optim.SGD([w], lr=1.0)
    s2 = optim.lr_scheduler.StepLR(opt2, step_size=5, gamma=0.5)
    s2.load_state_dict(state)
    s.step()
    s2.step()
    assert s.get_last_lr() == s2.get_last_lr()
    assert np.isclose(opt2.param_groups[0]["lr"], 0.01)
