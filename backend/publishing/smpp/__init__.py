"""SMS over SMPP 3.4: the PDU codec and text handling (sans-I/O), the client adapter
(:class:`backend.publishing.smpp.client.SmppAdapter`) and an SMSC simulator for tests and
demos (:mod:`backend.publishing.smpp.simulator`, ``dutydesk smsc-sim``)."""
