"""The back office's processing: queue (``queue``), checks (``checks``), fates (``fates``),
counters (``counters``) and the processor that runs them (``processor``).

See docs/backoffice.md for the pipeline and the fates.
"""
