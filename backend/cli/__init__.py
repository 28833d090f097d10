"""The ``dutydesk`` command line: one module per command group, assembled in ``app``.

The outermost layer: it may import every other backend package, and nothing in the
backend imports it. The console is loaded through the ``dutydesk.commands`` entry
point, never imported from here.
"""
