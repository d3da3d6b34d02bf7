"""The reliability tests' one assertion: this exact exception type, naming these words."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pytest


@contextlib.contextmanager
def refused(error: type[BaseException], *words: str) -> Iterator[None]:
    """The block raises exactly `error` (not a subclass, not a parent) with a one-line
    message in which each of `words` (the argument, file or field) appears as a word."""
    with pytest.raises(BaseException) as info:
        yield
    assert type(info.value) is error, f"{type(info.value).__name__}: {info.value}"
    message = str(info.value)
    assert "\n" not in message.strip(), message
    for word in words:
        assert re.search(rf"(?<!\w){re.escape(word)}(?!\w)", message), (word, message)
