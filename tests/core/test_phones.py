import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core.phones import classify, normalise

REGIONS = ["US", "GB", "DE", "FR", "JP", "NG", "IN", "BR", "AU", "MX", "ZA", "CN", "RU", "IT", "ES", "KR", "AR", "EG",
           "SE", "CH"]


@pytest.mark.parametrize("region", REGIONS)
def test_example_numbers_of_many_regions_round_trip_through_e164(region):
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    expected = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    assert normalise(national, region).e164 == expected
    assert normalise(international, "US").e164 == expected  # the +CC form reads the same from any region
    assert normalise(expected, region).e164 == expected
    assert normalise(normalise(national, region).e164, "JP").e164 == expected


@given(st.sampled_from(REGIONS), st.sampled_from([
    phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.TOLL_FREE,
]))
@settings(max_examples=60)
def test_any_example_number_is_idempotent(region, number_type):
    example = phonenumbers.example_number_for_type(region, number_type)
    if example is None or not phonenumbers.is_valid_number(example):
        return
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    info = normalise(e164, region)
    assert info.valid and info.e164 == e164 and info.key == e164


def test_national_number_is_read_in_the_principals_region():
    assert normalise("03-1234-5678", "JP").e164 == "+81312345678"
    assert normalise("020 7946 0958", "GB").e164 == "+442079460958"
    assert normalise("(212) 555-0123", "US").e164 == "+12125550123"


def test_export_without_the_leading_plus_is_still_found():
    # Google Voice file names and some Android exports drop the "+"
    assert normalise("17323211010", "JP").e164 == "+17323211010"
    assert normalise("442079460958", "US").e164 == "+442079460958"


@pytest.mark.parametrize("raw", ["12", "+66666", "555", "not a number 1", "+999 123"])
def test_invalid_numbers_are_kept_as_typed_and_marked(raw):
    info = normalise(raw, "US")
    assert (info.kind, info.e164, info.raw, info.valid) == ("invalid", "", raw, False)


@pytest.mark.parametrize("raw", ["", "  ", "Anonymous", "PRIVATE", "withheld", "-2", "+266696687", "Unknown"])
def test_withheld_numbers(raw):
    info = normalise(raw, "US")
    assert info.kind == "withheld" and info.shown == "Withheld" and info.key == ""


@pytest.mark.parametrize("raw,kind,key", [
    ("sip:Kevin@Example.com", "sip", "sip:kevin@example.com"),
    ("alice@pbx.example.org", "sip", "alice@pbx.example.org"),
    ("client:kevin", "client", "client:kevin"),
    ("kevin", "client", "kevin"),
])
def test_sip_addresses_and_client_identities(raw, kind, key):
    info = normalise(raw, "US")
    assert (info.kind, info.e164, info.key) == (kind, "", key)
    assert classify(raw, "") == kind


@given(st.text(max_size=40), st.sampled_from(REGIONS))
def test_normalise_never_raises_and_keeps_the_text(raw, region):
    info = normalise(raw, region)
    assert info.kind in {"phone", "invalid", "withheld", "sip", "client"}
    assert info.raw == raw
    if info.valid:
        assert phonenumbers.is_valid_number(phonenumbers.parse(info.e164))
