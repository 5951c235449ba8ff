"""The names word list, its fixed checksummed split, and the character vocabulary (course_utils.text)."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import text
from course_utils.text import CharVocab, NamesDataError, load_names, names_split, next_char_targets


def test_names_are_lower_case_letters_each_once_and_sorted() -> None:
    words = load_names()
    assert len(words) == 5163
    assert words == sorted(set(words))
    assert all(w.isascii() and w.isalpha() and w == w.lower() for w in words)
    assert {"mary", "james", "aaron"} <= set(words)


def test_the_split_is_fixed_disjoint_and_matches_its_checksum() -> None:
    train, val = names_split()
    assert (len(train), len(val)) == (4389, 774)
    assert not set(train) & set(val)
    assert sorted(train + val) == load_names()
    assert names_split() == (train, val)  # the same words in the same order, every call
    assert text.split_digest(train, val) == text.NAMES_SPLIT_SHA256


def test_a_changed_word_list_is_refused_with_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    fewer = tuple(load_names()[:-1])
    monkeypatch.setattr(text, "_names", lambda: fewer)
    with pytest.raises(NamesDataError, match="pip install names==0.3.0"):
        names_split()
    assert len(names_split(check=False)[0]) > 0  # without the check, whatever is installed


def test_a_missing_package_is_refused_with_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_package(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(text.resources, "files", no_package)
    with pytest.raises(NamesDataError, match="pip install names"):
        text._read_package_files()


def test_vocabulary_encodes_and_decodes_words() -> None:
    vocab = CharVocab()
    assert vocab.size == 29 and len(vocab.symbols) == 29
    assert vocab.encode("abz") == [vocab.START, 3, 4, 28, vocab.END]
    assert vocab.decode([1, 3, 4, 2, 5, 0]) == "ab"  # stops at END
    assert vocab.decode(np.array([1, 0, 3, 4])) == "ab"  # START and PAD are skipped
    with pytest.raises(ValueError, match="a-z"):
        vocab.encode("Anna")


def test_batches_are_padded_on_the_right() -> None:
    tokens = CharVocab().encode_batch(["ab", "c"])
    assert tokens.dtype == np.int64
    np.testing.assert_array_equal(tokens, [[1, 3, 4, 2], [1, 5, 2, 0]])
    with pytest.raises(TypeError, match="list of words"):
        CharVocab().encode_batch("ab")


def test_next_char_targets_list_what_follows_every_prefix_word_by_word() -> None:
    np.testing.assert_array_equal(next_char_targets(["ab", "c"]), [3, 4, 2, 5, 2])
    _, val = names_split()
    assert len(next_char_targets(val)) == sum(len(w) + 1 for w in val)
