"""Field devices: sans-I/O codecs (bytes in, typed messages out), thin I/O adapters
(TCP gateway, serial, Modbus poller) and simulators. No Qt, no database."""
