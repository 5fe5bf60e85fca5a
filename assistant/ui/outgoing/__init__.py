"""The Outgoing tab: drafts, scheduled sends and the outbox."""
