"""Incident chat: messages between desks, attachments and read receipts."""
