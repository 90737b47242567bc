"""coursetools.execute waits for a kernel's messages in short slices: a message whose wake-up
was missed is picked up by the next slice, not when the cell's whole time limit runs out."""
import asyncio
import time
from queue import Empty

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from coursetools import execute


class FakeSocketWait:
    """get_msg(t) that sleeps t and raises Empty until ``ready_after`` calls have been made,
    as a wait whose wake-up is missed does; records every t it was given."""

    def __init__(self, ready_after):
        self.ready_after, self.calls = ready_after, []

    async def __call__(self, t):
        self.calls.append(t)
        if len(self.calls) > self.ready_after:
            return {"msg_type": "execute_reply"}
        await asyncio.sleep(t)
        raise Empty


def test_a_message_missed_by_one_wait_is_returned_by_the_next_slice():
    get = FakeSocketWait(ready_after=2)
    start = time.monotonic()
    msg = asyncio.run(execute.wait_in_slices(get, timeout=300, slice_seconds=0.05))
    assert msg == {"msg_type": "execute_reply"}
    assert len(get.calls) == 3 and all(t <= 0.05 for t in get.calls)
    assert time.monotonic() - start < 60          # not the 300 s limit


def test_the_whole_wait_still_ends_at_the_timeout_with_empty():
    get = FakeSocketWait(ready_after=10 ** 9)
    start = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(execute.wait_in_slices(get, timeout=0.2, slice_seconds=0.05))
    assert time.monotonic() - start >= 0.2
    assert sum(get.calls) == pytest.approx(0.2, abs=0.02)   # the slices add up to the limit
    assert all(t <= 0.05 for t in get.calls)


def test_no_timeout_means_slices_until_a_message_comes():
    get = FakeSocketWait(ready_after=4)
    assert asyncio.run(execute.wait_in_slices(get, timeout=None, slice_seconds=0.01))
    assert get.calls == [0.01] * 5


def test_the_client_gets_replies_and_outputs_through_short_waits():
    client = execute.ShortWaitKernelClient()
    assert client.shell_channel_class is execute.ShortWaitChannel
    assert client.iopub_channel_class is execute.ShortWaitChannel
    assert execute.ShortWaitKernelManager().client_factory is execute.ShortWaitKernelClient


@pytest.mark.notebooks
def test_a_widget_cell_and_the_cells_after_it_run_and_keep_their_outputs(tmp_path, monkeypatch):
    # The kind of notebook that showed the missed wake-up: sliders, then more cells; every wait
    # for the kernel goes through the slices.
    waits = []
    real = execute.wait_in_slices

    async def counted(get_msg, timeout, slice_seconds=execute.POLL_SLICE):
        waits.append(timeout)
        return await real(get_msg, timeout, slice_seconds)
    monkeypatch.setattr(execute, "wait_in_slices", counted)
    nb = new_notebook(cells=[
        new_code_cell("import ipywidgets as w\nw.interactive(lambda a: print('a =', a), a=(0, 4, 1))"),
        new_code_cell("print('after the widget')"),
        new_code_cell("21 * 2"),
    ])
    execute.run(nb, tmp_path, timeout=120, keep_figures=False)
    assert nb.cells[1].outputs[0].text == "after the widget\n"
    assert nb.cells[2].outputs[0].data["text/plain"] == "42"
    assert 120 in waits and None in waits    # the replies (cell limit) and the outputs (no limit)
    nbformat.validate(nb)
