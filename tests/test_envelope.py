"""The WHM API 1 envelope is built straight from its parts (no dicts sorted per answer); it
must stay byte for byte what the generic encoder makes of the same envelope dict."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatehouse.api import envelope
from gatehouse.api.dispatch import Outcome

# JSON values as handlers return them: nested dicts/lists of text, numbers, booleans, null.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
METADATA = st.one_of(st.none(), st.dictionaries(st.text(max_size=10), scalars, max_size=3))


def reference(value: Any) -> bytes:
    """What cPanel's canonical encoder writes: compact, keys sorted, UTF-8."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


@given(values)
def test_dumps_is_compact_sorted_json(value: Any) -> None:
    assert envelope.dumps(value) == reference(value)


@given(st.text(), st.booleans(), st.text(), st.one_of(st.just(envelope.MISSING), values), METADATA)
def test_whm1_bytes_equal_the_envelope_dict_encoded(
    command: str, ok: bool, reason: str, data: Any, metadata: dict[str, Any] | None
) -> None:
    built = envelope.whm1(command, ok=ok, reason=reason, data=data, metadata=metadata)
    as_dict = envelope.whm1_dict(command, ok=ok, reason=reason, data=data, metadata=metadata)
    assert built == reference(as_dict)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"version": "11.120.0.16"},
            b'{"data":{"version":"11.120.0.16"},"metadata":{"command":"version",'
            b'"reason":"OK","result":1,"version":1}}',
        ),
        (
            envelope.MISSING,
            b'{"metadata":{"command":"version","reason":"OK","result":1,"version":1}}',
        ),
        (
            None,
            b'{"data":null,"metadata":{"command":"version","reason":"OK","result":1,"version":1}}',
        ),
    ],
)
def test_whm1_success_shapes(data: Any, expected: bytes) -> None:
    assert envelope.whm1("version", ok=True, reason="OK", data=data) == expected


def test_metadata_may_override_and_extend_the_standard_keys() -> None:
    body = envelope.whm1("f", ok=True, reason="OK", data=[], metadata={"output": {"raw": "x"}})
    assert body == (
        b'{"data":[],"metadata":{"command":"f","output":{"raw":"x"},"reason":"OK",'
        b'"result":1,"version":1}}'
    )


def test_dumps_refuses_what_json_cannot_encode() -> None:
    with pytest.raises(TypeError):
        envelope.dumps({"a": object()})
    # A failed encoding leaves nothing behind that would break the next one.
    assert envelope.dumps({"a": [1]}) == b'{"a":[1]}'


@given(st.text(), st.booleans(), st.text(), st.one_of(st.just(envelope.MISSING), values), METADATA)
def test_an_outcome_gives_the_same_answer_as_bytes_and_as_payload(
    command: str, ok: bool, reason: str, data: Any, metadata: dict[str, Any] | None
) -> None:
    outcome = Outcome.whm1(200, command, ok=ok, reason=reason, data=data, metadata=metadata)
    assert outcome.body == reference(outcome.payload)
