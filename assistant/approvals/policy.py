"""Does a draft need the principal's approval? The draft's own override wins over the principal's policy."""
from __future__ import annotations

from assistant.domain import ApprovalPolicy, Draft
from assistant.store import Store
from assistant.store import drafts as sql

# Least to most strict. A draft given overrides by several snippets takes the strictest of them: a "never ask" routine
# confirmation inserted next to an "always ask" paragraph still asks.
STRICTNESS = (ApprovalPolicy.NEVER, ApprovalPolicy.NEW_RECIPIENTS, ApprovalPolicy.ALWAYS)


def strictest(*overrides: str | ApprovalPolicy) -> str:
    """The strictest of these overrides as a value; '' (no override, the principal's policy) adds nothing to it."""
    given = [ApprovalPolicy(o) for o in overrides if o]
    return max(given, key=STRICTNESS.index).value if given else ""


def effective_policy(store: Store, d: Draft) -> ApprovalPolicy:
    if d.approval:
        return ApprovalPolicy(d.approval)
    return ApprovalPolicy(store.principal(d.principal_id).approval_policy)


def approval_reasons(store: Store, d: Draft) -> list[str]:
    """Why this draft needs approval; empty when it does not."""
    policy = effective_policy(store, d)
    if policy is ApprovalPolicy.NEVER:
        return []
    if policy is ApprovalPolicy.ALWAYS:
        return ["the policy asks approval for every message"]
    scope = store.scope(d.principal_id)
    reasons = [f"new recipient {a.email}" for a in [*d.to, *d.cc] if not sql.knows_address(scope, a.email)]
    if d.attachments:
        reasons.append("it has attachments")
    return reasons
