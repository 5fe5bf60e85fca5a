"""A principal's offboarding: everything of theirs exported in open formats and verified, their grants revoked, every
trace of them deleted from the workspace, and a receipt (``service.offboard``; the formats in ``export``)."""
