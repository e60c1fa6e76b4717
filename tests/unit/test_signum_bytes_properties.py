"""Property test: the signum command, fed arbitrary bytes on stdin, prints a signum or refuses with exit 2.

Bytes range from noise through broken and deeply nested JSON to bib objects whose varFields hold
any JSON at all; nothing may escape as an exception.
"""

import argparse
import io
import json
import string
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tarroitus.cli.signum import EXIT_INVALID_INPUT, run
from tarroitus.services.signum import SIGNUM_MARKER

SIGNUM_CHARACTERS = frozenset(string.ascii_uppercase + string.digits + "ÅÄÖÜØÆ")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=25,
)
bib_like = st.fixed_dictionaries({}, optional={"varFields": json_values, "id": json_values}).map(json.dumps)
stdin_bytes = (
    st.binary(max_size=300)
    | bib_like.map(str.encode)
    | json_values.map(lambda value: json.dumps(value).encode())
    | st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth)
    | st.binary(max_size=40).map(lambda tail: b'{"varFields": [' + tail)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=stdin_bytes)
def test_signum_command_any_bytes_give_a_signum_or_exit_2(data: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    # Given
    capsys.readouterr()
    stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(data))
    # When
    try:
        status = run(argparse.Namespace(explain=True))
    finally:
        sys.stdin = stdin
    output = capsys.readouterr()
    # Then
    assert status in {0, EXIT_INVALID_INPUT}
    if status == 0:
        signum = output.out.splitlines()[0]
        assert signum == SIGNUM_MARKER or (0 < len(signum) <= 3 and set(signum) <= SIGNUM_CHARACTERS)
    else:
        assert output.out == ""
        assert output.err.startswith("signum: ")
