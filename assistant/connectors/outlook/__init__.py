"""Outlook / Microsoft 365 over Microsoft Graph: msal sign-in, plain HTTP with Outlook's throttling rules."""
from assistant.connectors.outlook.connector import OutlookConnector

__all__ = ["OutlookConnector"]
