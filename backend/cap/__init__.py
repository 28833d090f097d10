"""CAP 1.2 (OASIS Common Alerting Protocol): the alert model and its XML codec, sans-I/O.

:mod:`backend.cap.model` holds the values, :mod:`backend.cap.codec` writes and reads the
XML (hardened against hostile documents), :mod:`backend.cap.testing` validates a document
against the normative schema (tests only).
"""
