"""selfcheck.practice: the lectures' ungraded self-checks say right, not yet (and why) or not answered."""
import numpy as np

from selfcheck.practice import answer, answer_function


def out(capsys):
    return capsys.readouterr().out.strip()


def test_right_within_tolerance(capsys):
    answer("exercise 1", 0.2689, 1 / (1 + np.e))
    assert out(capsys) == "✓ exercise 1: right"


def test_none_is_not_answered_and_never_right(capsys):
    answer("exercise 1", None, 0.0)
    assert out(capsys) == "… exercise 1: not answered yet (replace None with your answer)"


def test_a_wrong_number_says_which_way_without_giving_the_answer(capsys):
    answer("exercise 2", 0.5, 0.25)
    text = out(capsys)
    assert text.startswith("✗ exercise 2: not yet: 0.5 is too large")
    assert "0.25" not in text


def test_wrong_sign_and_wrong_shape(capsys):
    answer("ex", [-1.0, 2.0], [1.0, 2.0])
    assert "the right size but the wrong sign" in out(capsys)
    answer("ex", [1.0, 2.0, 3.0], [1.0, 2.0])
    assert "expected shape (2,), received shape (3,)" in out(capsys)


def test_a_known_mistake_gets_its_hint(capsys):
    answer("ex", 0.5, 0.25, hints=[(0.5, "did you forget the factor 1/2?")])
    assert out(capsys).endswith("Hint: did you forget the factor 1/2?")


def test_text_instead_of_a_number(capsys):
    answer("ex", "0.25", 0.25)
    assert "expected a number or an array of numbers, received '0.25' of type str" in out(capsys)


def test_functions_are_checked_on_every_case(capsys):
    cases = [(np.array([1.0, -2.0]),), (np.array([[0.5]]),)]
    answer_function("exercise 3", np.abs, np.abs, cases)
    assert out(capsys) == "✓ exercise 3: right on all 2 inputs"
    answer_function("exercise 3", lambda x: x, np.abs, cases)
    text = out(capsys)
    assert text.startswith("✗ exercise 3: not yet: on input (array([ 1., -2.])):")
    assert "the right size but the wrong sign" in text


def test_a_function_that_raises_or_is_missing(capsys):
    answer_function("ex", lambda x: x.reshape(3), np.abs, [(np.ones(2),)])
    assert "raised ValueError" in out(capsys)
    answer_function("ex", None, np.abs, [(np.ones(2),)])
    assert out(capsys).startswith("… ex: not answered yet")
    answer_function("ex", lambda x: None, np.abs, [(np.ones(2),)])
    assert out(capsys).startswith("… ex: not answered yet (your function returns None)")


def test_the_students_array_is_not_modified(capsys):
    x = np.array([1.0, 2.0])

    def clobber(a):
        a[:] = 0
        return a
    answer_function("ex", clobber, lambda a: a * 0, [(x,)])
    assert x.tolist() == [1.0, 2.0]
