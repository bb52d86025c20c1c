"""One module per ``ektp-station`` subcommand; each has ``register(subparsers)``.

A subcommand's handler is ``func(args) -> int`` set with ``set_defaults(func=...)``.
"""
