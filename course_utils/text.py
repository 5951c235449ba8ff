"""Words for a character-level language model: the first names of the US census (notebook 06).

The PyPI package ``names`` ships the 1990 census lists ``dist.male.first`` and
``dist.female.first`` inside its wheel, so this works offline, on Colab and in CI.
:func:`load_names` reads them (lower case, letters a-z only, each name once, sorted);
:func:`names_split` shuffles them with a fixed seed into training and validation
words and checks the split's SHA-256, so every student, the grader and the
benchmarks train and evaluate on exactly the same words.

Characters become integer tokens with :class:`CharVocab`: 0 is padding, 1 starts a
word, 2 ends it, 3-28 are ``a``-``z``. A word of L letters is encoded as L + 2
tokens, ``[START, c_1, ..., c_L, END]``; a batch is padded with PAD to its longest word.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

__all__ = [
    "NamesDataError",
    "CharVocab",
    "NAMES_SPLIT_SHA256",
    "NAMES_VAL_FRACTION",
    "load_names",
    "names_split",
    "split_digest",
    "next_char_targets",
]

_NAMES_FILES = ("dist.male.first", "dist.female.first")
NAMES_SPLIT_SEED = 2026
NAMES_VAL_FRACTION = 0.15
# sha256 of "\n".join(train) + "\n\n" + "\n".join(val) for names 0.3.0; see split_digest.
NAMES_SPLIT_SHA256 = "3f33ed0c86cc254102a971c99174ae938ce6c91e7e9702c05e863bd3ef48c026"


class NamesDataError(RuntimeError):
    """The word list is missing, or not the one the course was built on."""


def _read_package_files() -> list[str]:
    try:
        package = resources.files("names")
    except ModuleNotFoundError:
        raise NamesDataError(
            "the word list for notebook 06 comes from the Python package `names`, which is not "
            "installed. Install it with `pip install names` (in a notebook: `%pip install names`), "
            "then restart the kernel."
        ) from None
    lines: list[str] = []
    for filename in _NAMES_FILES:
        path = package / filename
        if not path.is_file():
            raise NamesDataError(f"the package `names` has no file {filename!r}; reinstall it with "
                                 "`pip install --force-reinstall names==0.3.0`.")
        lines += path.read_text(encoding="ascii").splitlines()
    return lines


@cache
def _names() -> tuple[str, ...]:
    words = set()
    for line in _read_package_files():
        fields = line.split()
        if fields:
            word = fields[0].lower()
            if word.isascii() and word.isalpha():
                words.add(word)
    return tuple(sorted(words))


def load_names() -> list[str]:
    """Every first name of the census lists: lower case, a-z only, each once, sorted."""
    return list(_names())


def split_digest(train: list[str], val: list[str]) -> str:
    """SHA-256 of a split, as hex: the training words, a blank line, the validation words, one per line."""
    text = "\n".join(train) + "\n\n" + "\n".join(val)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def names_split(check: bool = True) -> tuple[list[str], list[str]]:
    """The fixed split of :func:`load_names`: (training words, validation words), 85 % / 15 %.

    The names are shuffled by the SHA-256 of "seed:name" (not by a NumPy generator, whose
    streams may change between NumPy versions), so the split depends on the word list
    alone. With ``check`` (the default) its SHA-256 must equal NAMES_SPLIT_SHA256,
    otherwise NamesDataError says what differs and what to do.
    """
    words = _names()
    shuffled = sorted(words, key=lambda w: hashlib.sha256(f"{NAMES_SPLIT_SEED}:{w}".encode("ascii")).hexdigest())
    n_val = int(round(NAMES_VAL_FRACTION * len(words)))
    train, val = shuffled[n_val:], shuffled[:n_val]
    if check:
        digest = split_digest(train, val)
        if digest != NAMES_SPLIT_SHA256:
            raise NamesDataError(
                f"the names split has SHA-256 {digest[:16]}..., not the course's {NAMES_SPLIT_SHA256[:16]}... "
                f"({len(words)} names found). The package `names` installed here is not the version the "
                "course was built with: install it with `pip install names==0.3.0` and restart the kernel."
            )
    return train, val


@dataclass(frozen=True)
class CharVocab:
    """Characters <-> integer tokens: PAD 0, START 1, END 2, then the letters."""

    letters: str = "abcdefghijklmnopqrstuvwxyz"
    PAD: int = 0
    START: int = 1
    END: int = 2

    @property
    def symbols(self) -> list[str]:
        """What each token prints as: '_' for PAD, '^' for START, '$' for END, then the letters."""
        return ["_", "^", "$", *self.letters]

    @property
    def size(self) -> int:
        return 3 + len(self.letters)

    def encode(self, word: str) -> list[int]:
        """[START, c_1, ..., c_L, END] for a word of L letters."""
        unknown = sorted(set(word) - set(self.letters))
        if unknown:
            raise ValueError(f"{word!r} has characters outside the vocabulary: {unknown}; "
                             "the vocabulary has only the lower-case letters a-z.")
        return [self.START, *(3 + self.letters.index(c) for c in word), self.END]

    def decode(self, tokens: Any) -> str:
        """The letters of a token sequence, stopping at the first END (START and PAD are skipped)."""
        out = []
        for t in np.asarray(tokens).reshape(-1).tolist():
            if t == self.END:
                break
            if t >= 3:
                out.append(self.letters[t - 3])
        return "".join(out)

    def encode_batch(self, words: list[str]) -> np.ndarray:
        """int64 (N, L_max + 2): each word encoded, padded on the right with PAD."""
        if isinstance(words, str):
            raise TypeError("encode_batch takes a list of words; for one word pass [word].")
        encoded = [self.encode(w) for w in words]
        tokens = np.full((len(encoded), max((len(e) for e in encoded), default=2)), self.PAD, dtype=np.int64)
        for i, e in enumerate(encoded):
            tokens[i, :len(e)] = e
        return tokens


def next_char_targets(words: list[str], vocab: CharVocab | None = None) -> np.ndarray:
    """int64 (P,): for each word in order, the tokens c_1, ..., c_L, END a model must predict.

    P = sum of (L + 1) over the words: one target per position that has a next character.
    """
    vocab = vocab or CharVocab()
    return np.array([t for w in words for t in vocab.encode(w)[1:]], dtype=np.int64)
