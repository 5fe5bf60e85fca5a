from datetime import UTC, datetime

import pytest

from assistant.approvals.snippets import expand, first_name
from assistant.core.errors import InvalidInput
from assistant.domain import Address, ApprovalPolicy, Principal
from assistant.store import Store
from assistant.store import snippets as snippet_store


@pytest.mark.parametrize("address, expected", [
    (Address("Ada Obi", "ada@x.example"), "Ada"),
    (Address("Obi, Ada", "ada@x.example"), "Ada"),
    (Address("", "mary.jones@x.example"), "Mary"),
    (None, ""),
])
def test_first_name(address, expected):
    assert first_name(address) == expected


def test_date_is_the_principals_day_not_the_assistants():
    tokyo = Principal("Ken", "Asia/Tokyo")
    late_utc = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)  # already 2 March in Tokyo
    text = expand("{{date}} / {{principal}} / {{my_name}} / {{first_name}} / {{unknown}}", principal=tokyo,
                  recipient=Address("Bob Stone", "bob@x.example"), my_name="Sam", now_utc=late_utc)
    assert text == "Monday 2 March 2026 / Ken / Sam / Bob / {{unknown}}"


def test_snippets_are_per_principal(tmp_path):
    store = Store(tmp_path / "ws")
    try:
        ann = store.add_principal(Principal("Ann", "America/New_York", ["ann@a.example"]))
        ken = store.add_principal(Principal("Ken", "Asia/Tokyo", ["ken@k.example"]))
        snippet_store.save_snippet(store.scope(ann.id), "thanks", "Thank you, {{first_name}}")
        snippet_store.save_snippet(store.scope(ann.id), "thanks", "Many thanks, {{first_name}}")
        assert [(s.name, s.body) for s in snippet_store.snippets(store.scope(ann.id))] == [
            ("thanks", "Many thanks, {{first_name}}")]
        assert snippet_store.snippets(store.scope(ken.id)) == []
        with pytest.raises(InvalidInput):
            snippet_store.save_snippet(store.scope(ann.id), "  ", "x")
        assert snippet_store.reply_signature(store.scope(ann.id)) is None
        snippet_store.set_reply_signature(store.scope(ann.id), "A.")
        assert snippet_store.reply_signature(store.scope(ann.id)) == "A."
        assert snippet_store.reply_signature(store.scope(ken.id)) is None
        snippet_store.always_load_remote_images(store.scope(ann.id), "News@Letter.example")
        assert snippet_store.loads_remote_images_from(store.scope(ann.id), "news@letter.example")
        assert not snippet_store.loads_remote_images_from(store.scope(ken.id), "news@letter.example")
    finally:
        store.close()


def test_a_snippets_approval_override_round_trips_and_is_checked(tmp_path):
    store = Store(tmp_path / "ws")
    try:
        ann = store.add_principal(Principal("Ann", "America/New_York", ["ann@a.example"]))
        scope = store.scope(ann.id)
        saved = snippet_store.save_snippet(scope, "confirm", "Confirmed, see you then.", "never")
        assert saved.approval == "never"
        snippet_store.save_snippet(scope, "thanks", "Thank you", ApprovalPolicy.ALWAYS)
        snippet_store.save_snippet(scope, "plain", "Hello")
        assert [(s.name, s.approval) for s in snippet_store.snippets(scope)] == [
            ("confirm", "never"), ("plain", ""), ("thanks", "always")]
        snippet_store.save_snippet(scope, "confirm", "Confirmed.", "")  # back to the principal's policy
        assert [(s.body, s.approval) for s in snippet_store.snippets(scope) if s.name == "confirm"] == [
            ("Confirmed.", "")]
        with pytest.raises(InvalidInput, match="not one of always, new-recipients, never") as error:
            snippet_store.save_snippet(scope, "odd", "x", "sometimes")
        assert "\n" not in str(error.value)
        assert "odd" not in {s.name for s in snippet_store.snippets(scope)}
    finally:
        store.close()
