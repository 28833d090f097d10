"""The publishing console (信息发布): notices drafted, approved by a second person and
published, their receipts live; and the inbox (收到的通知) of enterprise and agency
consoles."""
