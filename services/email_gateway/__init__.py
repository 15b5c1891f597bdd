"""The email gateway: SMTP and IMAP intake, parsing, threading and replies out for the email channel."""
