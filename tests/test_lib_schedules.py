"""Tests of nnlib.schedules: each schedule's learning rates worked out by hand."""
import pytest

from nnlib import schedules


def test_step_decay():
    s = schedules.step_decay(0.1, drop=0.5, every=10)
    # 0.1·0.5^0, 0.1·0.5^0, 0.1·0.5^1, 0.1·0.5^2
    assert [s(0), s(9), s(10), s(25)] == pytest.approx([0.1, 0.1, 0.05, 0.025])


def test_exponential_decay():
    e = schedules.exponential_decay(0.1, decay_rate=0.5, decay_epochs=2)
    # 0.1·0.5^(1/2) = 0.0707107; 0.1·0.5^1 = 0.05; 0.1·0.5^2 = 0.025
    assert [e(0), e(1), e(2), e(4)] == pytest.approx([0.1, 0.0707107, 0.05, 0.025], abs=1e-7)


def test_cosine_decay():
    c = schedules.cosine_decay(0.1, total_epochs=10)
    # ½·0.1·(1 + cos 0) = 0.1; (1 + cos π/2) → 0.05; (1 + cos π) → 0; stays at 0 afterwards
    assert [c(0), c(5), c(10), c(15)] == pytest.approx([0.1, 0.05, 0.0, 0.0], abs=1e-12)
    c2 = schedules.cosine_decay(0.1, total_epochs=10, lr_min=0.01)
    assert c2(5) == pytest.approx(0.055)                       # 0.01 + ½·0.09·1
    assert c2(10) == pytest.approx(0.01)


def test_bad_arguments():
    with pytest.raises(ValueError, match="epoch=-1"):
        schedules.step_decay(0.1)(-1)
    with pytest.raises(ValueError, match="lr0"):
        schedules.step_decay(0.0)
    with pytest.raises(ValueError, match="decay_rate"):
        schedules.exponential_decay(0.1, decay_rate=-0.5)
    with pytest.raises(ValueError, match="lr_min"):
        schedules.cosine_decay(0.1, 10, lr_min=0.2)
