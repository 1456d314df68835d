"""The pinned moto server with landfall's emulator extensions.

moto 5.2.5 lacks a few AWS behaviours a landing zone depends on (cross-account use of resources shared
through RAM, Route 53 VPC association authorizations, GuardDuty's organization configuration). Each
module in `extensions/` adds one of them, written from the AWS API reference, and says which. An
extension patches moto only when the moto module it changes is first imported (moto imports a service's
code on its first request), so a server that never sees that service pays nothing for it.

Usage is moto_server's: `server.py -H 127.0.0.1 -p PORT`. `LANDFALL_MOTO_EXTENSIONS=0` runs plain moto.
"""

import importlib
import importlib.abc
import os
import pkgutil
import sys

_HOOKS: dict[str, list] = {}


def on_import(module: str, patch) -> None:
    """Calls `patch(module_object)` once `module` is imported (at once if it already is)."""
    if module in sys.modules:
        patch(sys.modules[module])
    else:
        _HOOKS.setdefault(module, []).append(patch)


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, inner):
        self.inner = inner

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        self.inner.exec_module(module)
        for patch in _HOOKS.pop(module.__name__, []):
            patch(module)


class _PatchingFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in _HOOKS:
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            spec = finder.find_spec(name, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


def load_extensions() -> list[str]:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    sys.meta_path.insert(0, _PatchingFinder())
    loaded = []
    for info in sorted(pkgutil.iter_modules([os.path.join(here, "extensions")]), key=lambda m: m.name):
        importlib.import_module(f"extensions.{info.name}").install(on_import)
        loaded.append(info.name)
    return loaded


if __name__ == "__main__":
    if os.environ.get("LANDFALL_MOTO_EXTENSIONS", "1") != "0":
        load_extensions()
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
