"""Publishing (信息发布): notices and warnings drafted, approved by a second person, and
published as CAP 1.2 and through channels (consoles, SMS over SMPP, e-mail over SMTP),
with a receipt per recipient and channel."""
