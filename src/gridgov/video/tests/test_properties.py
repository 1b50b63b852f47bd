"""Properties over varied inputs: rule time windows and webhook signatures."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridgov.core.errors import Forbidden
from gridgov.video.models import AlarmRule, AlarmSource
from gridgov.video.signing import SIGNATURE_HEADER, sign, signed_headers, verified_source

times = st.times()


@given(start=times, end=times, moment=times)
def test_time_window_matches_the_minute_of_day_reference(start, end, moment):
    rule = AlarmRule(window_start=start, window_end=end)
    if start == end:
        expected = True
    elif start < end:
        expected = start <= moment < end
    else:  # wraps midnight: the complement of [end, start)
        expected = not (end <= moment < start)
    assert rule.in_window(moment) is expected


def test_window_without_bounds_always_matches():
    assert AlarmRule().in_window(dt.time(3, 0))


@pytest.mark.django_db
@given(body=st.binary(max_size=300), flip=st.integers(min_value=0, max_value=299))
def test_signature_accepts_the_signed_body_and_refuses_any_change(body, flip):
    AlarmSource.objects.get_or_create(code="p", defaults={"name": "p", "kind": "webhook", "secret": "k"})
    headers = signed_headers("p", "k", body, timestamp=1_800_000_000)
    assert verified_source(headers, body, now=1_800_000_100).code == "p"
    if body:
        changed = bytearray(body)
        changed[flip % len(body)] ^= 0x01
        with pytest.raises(Forbidden):
            verified_source(headers, bytes(changed), now=1_800_000_100)
    assert headers[SIGNATURE_HEADER] == sign("k", "1800000000", body)
