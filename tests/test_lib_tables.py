import pytest

from nnlib.tables import format_table, show_table


def test_columns_align_first_left_others_right():
    text = format_table(["step", "w", "loss"], [[0, "0.5000", 1.25], [10, "-0.2500", 0.5]])
    assert text.splitlines() == [
        "step        w  loss",
        "----  -------  ----",
        "0      0.5000  1.25",
        "10    -0.2500   0.5",
    ]


def test_show_table_prints_the_formatted_table(capsys):
    show_table(["a", "b"], [[1, 2]])
    assert capsys.readouterr().out == format_table(["a", "b"], [[1, 2]]) + "\n"


def test_a_row_of_the_wrong_length_is_named():
    with pytest.raises(ValueError, match=r"row 1 has 1 entries, expected 2"):
        format_table(["a", "b"], [[1, 2], [3]])
