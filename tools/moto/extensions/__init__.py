"""Emulator extensions: one module per missing AWS behaviour, each with `install(on_import)`."""
