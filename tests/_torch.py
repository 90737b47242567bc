"""Shared by the tests that compare the library with PyTorch (tests/test_lib_*_torch.py).

PyTorch is not a course dependency: ``torch_or_skip`` skips the calling test module, with a message
saying how to install it, where it is missing. Agreement is required to a relative 1e-10 (and an
absolute 1e-12 for entries near zero), in float64.
"""
import numpy as np
import pytest

RTOL, ATOL = 1e-10, 1e-12


def torch_or_skip(what):
    """The torch module, or skip the calling test module saying how to compare ``what`` with it."""
    return pytest.importorskip(
        "torch", reason=f"PyTorch is optional and not installed; pip install torch==2.13.0 (CPU) "
                        f"to compare {what} with it")


def leaf(a):
    """A float64 torch tensor that records its gradient."""
    import torch
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def close(ours, theirs):
    """Assert that ours equals theirs (a torch tensor or an array) to RTOL and ATOL."""
    import torch
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
