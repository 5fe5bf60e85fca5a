"""Drafts that principals approve: policy, lifecycle, the three approval channels and send-later.

- ``policy``: does this draft need the principal's approval?
- ``lifecycle``: the state machine (draft → awaiting-approval → approved → scheduled/sending → sent, or rejected →
  revised → awaiting-approval again); every transition is an audit entry with who, when, channel and version.
- ``outgoing``: the messages the app sends (the draft itself, approval requests, confirmations) as outbox entries.
- ``replies``: reading a principal's e-mailed answer ("approve", "reject: reason", "edit:" + text, short forms).
- ``channels``: the sync hook that applies e-mailed answers and watches the principal's Drafts folder.
"""
