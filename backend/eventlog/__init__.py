"""The event log: the append-only, gap-free, hash-chained record of everything.

Owns ``log`` (append in the caller's transaction, grouped appends, replay after a
``seq``, chain verification). Imports storage and :mod:`realtime` only; every domain
writes through it, it knows none of them.
"""
