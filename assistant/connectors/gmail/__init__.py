"""The Gmail and Google Calendar connector (issue 4): see ``connector.py`` for sync and writes, ``auth.py`` for sign-in."""
from assistant.connectors.gmail.auth import API_ROOT_ENV, SCOPES, sign_in
from assistant.connectors.gmail.connector import GmailConnector

__all__ = ["API_ROOT_ENV", "GmailConnector", "SCOPES", "sign_in"]
