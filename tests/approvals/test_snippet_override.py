"""A snippet's approval override, given to the draft it goes into, decides instead of the principal's policy."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assistant.approvals import drafts, lifecycle, policy
from assistant.domain import ApprovalPolicy
from assistant.store import snippets as snippet_store
from assistant.sync.engine import sync_account
from tests.approvals.test_lifecycle import folder_files

UTC = UTC


def draft_from_snippet(workspace, principal, account, name: str):
    """What the compose window does: the snippet's text in the body, its override on the draft."""
    [snippet] = [s for s in snippet_store.snippets(workspace.scope(principal.id)) if s.name == name]
    return drafts.save_draft(workspace, principal.id, account.id, to="bob@example.org", subject="Thursday",
                             body_text=snippet.body, approval=snippet.approval)


def test_a_never_ask_snippet_sends_for_a_principal_who_approves_everything(workspace, ann, local_account, maildir):
    assert ann.approval_policy == ApprovalPolicy.ALWAYS
    snippet_store.save_snippet(workspace.scope(ann.id), "confirm", "Confirmed for Thursday.", "never")
    d = draft_from_snippet(workspace, ann, local_account, "confirm")
    assert d.approval == "never" and policy.approval_reasons(workspace, d) == []
    assert drafts.submit_draft(workspace, ann.id, d.id) == "sending"
    [submitted] = [h for h in lifecycle.history(workspace, ann.id, d.id) if h["action"] == "submitted"]
    assert (submitted["policy"], submitted["override"]) == ("never", True)  # the record says who decided
    sync_account(workspace, local_account.id, now=datetime.now(UTC) + timedelta(minutes=1))  # past the undo window
    assert [m["Subject"] for m in folder_files(maildir, "Sent")] == ["Thursday"]
    assert drafts.get_draft(workspace, ann.id, d.id).state == "sent"


def test_an_always_ask_snippet_asks_a_principal_who_approves_nothing(workspace, ann, local_account, maildir):
    ann.approval_policy = ApprovalPolicy.NEVER
    workspace.update_principal(ann)
    snippet_store.save_snippet(workspace.scope(ann.id), "terms", "Our fee is 2% of the sum.", "always")
    d = draft_from_snippet(workspace, ann, local_account, "terms")
    assert policy.approval_reasons(workspace, d) == ["the policy asks approval for every message"]
    assert drafts.submit_draft(workspace, ann.id, d.id) == "awaiting-approval"
    sync_account(workspace, local_account.id, now=datetime.now(UTC) + timedelta(minutes=1))
    [request] = folder_files(maildir, "Sent")  # the approval request to Ann, not the message to Bob
    assert request["Subject"].startswith("Approval needed") and "ann@example.com" in request["To"]


def test_a_snippet_without_override_leaves_the_principals_policy(workspace, ann, local_account):
    snippet_store.save_snippet(workspace.scope(ann.id), "thanks", "Thank you.")
    d = draft_from_snippet(workspace, ann, local_account, "thanks")
    assert d.approval == "" and policy.effective_policy(workspace, d) is ApprovalPolicy.ALWAYS
    assert drafts.submit_draft(workspace, ann.id, d.id) == "awaiting-approval"


@pytest.mark.parametrize(("overrides", "expected"), [
    ((), ""),
    (("", ""), ""),
    (("never",), "never"),
    (("never", ""), "never"),  # a snippet without override adds nothing
    (("never", "always"), "always"),
    (("always", "never"), "always"),
    (("never", "new-recipients"), "new-recipients"),
    (("new-recipients", "always", "never"), "always"),
    ((ApprovalPolicy.NEVER, "new-recipients"), "new-recipients"),
])
def test_the_strictest_override_counts(overrides, expected):
    assert policy.strictest(*overrides) == expected
