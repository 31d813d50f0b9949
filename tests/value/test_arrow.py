"""Customer ids handed to Arrow for the scores CSV keep their text exactly."""

from __future__ import annotations

import numpy as np
import pytest

from kehu.value._arrow import string_array


@pytest.mark.parametrize("ids", [
    ["C0000001", "C0000002", ""],  # ASCII: encoded all at once
    ["上海-001", "x", "é"],  # not ASCII: one by one
    ["a", "上海"] * 3,
])
def test_text_ids_read_back_as_given(ids):
    assert string_array(np.array(ids, dtype=object)).to_pylist() == ids


def test_ids_that_are_not_text_are_written_as_their_text():
    assert string_array(np.array([7, "b", 2.5], dtype=object)).to_pylist() == ["7", "b", "2.5"]


def test_an_id_that_is_not_valid_unicode_is_refused():
    with pytest.raises(UnicodeEncodeError):
        string_array(np.array(["ok", "bad\ud800"], dtype=object))
