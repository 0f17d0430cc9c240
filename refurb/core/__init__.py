"""Pure domain rules: this package imports neither litestar nor piccolo."""
