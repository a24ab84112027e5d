"""The microkernel's plug-in contract and registry.

A plug-in is a module exposing ``PLUGIN``, a :class:`Plugin`: the contract it implements (a
name such as ``payments`` and a version), and a factory that builds its handlers from the core's
services (the shared database). The core never imports a plug-in: :meth:`Registry.load` imports
the modules named in ``ARCHSIM_PLUGINS`` at start-up, checks each one's contract against
:data:`CONTRACTS`, and the core calls them only through :meth:`Registry.call` with plain
messages (dicts in, dicts out), which is the contract boundary: a lookup in the registry, then
the plug-in's adapter from message to domain call and back. :mod:`simulator.scenario.styles.microkernel`
models that boundary as ``style.microkernel.plugin_call`` of CPU per call.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..database import Database

Message = dict[str, Any]
Handler = Callable[[Message], Awaitable[Message]]

CONTRACTS = {
    "inventory": (1, {"reserve"}),
    "payments": (1, {"charge"}),
    "notifications": (1, {"send"}),
}  #: Contract name (also the domain capability whose tables it uses) -> (version the core speaks, operations it calls).
DEFAULT_PLUGINS = "archsim_services.plugins.inventory,archsim_services.plugins.payments,archsim_services.plugins.notifications"


@dataclass(frozen=True)
class Plugin:
    contract: str
    version: int
    factory: Callable[[Database], dict[str, Handler]]  #: Operation name -> handler, given the core's database.


class PluginError(RuntimeError):
    """A plug-in is missing, speaks another contract version, or lacks an operation."""


class Registry:
    """The loaded plug-ins by contract; what the core calls them through."""

    def __init__(self) -> None:
        self._handlers: dict[str, dict[str, Handler]] = {}
        self.loaded: dict[str, str] = {}  #: Contract -> module that implements it.
        self.calls: dict[str, int] = {}  #: ``contract.operation`` -> calls so far.

    @classmethod
    def load(cls, modules: list[str], db: Database) -> "Registry":
        registry = cls()
        for name in modules:
            plugin = getattr(importlib.import_module(name), "PLUGIN", None)
            if not isinstance(plugin, Plugin):
                raise PluginError(f"module {name} has no PLUGIN")
            registry.register(plugin, db, name)
        missing = sorted(set(CONTRACTS) - set(registry.loaded))
        if missing:
            raise PluginError(f"no plug-in for contract(s) {', '.join(missing)}: add them to ARCHSIM_PLUGINS")
        return registry

    def register(self, plugin: Plugin, db: Database, module: str) -> None:
        if plugin.contract not in CONTRACTS:
            raise PluginError(f"{module}: unknown contract {plugin.contract!r}")
        version, operations = CONTRACTS[plugin.contract]
        if plugin.version != version:
            raise PluginError(f"{module}: contract {plugin.contract} v{plugin.version}, the core speaks v{version}")
        handlers = plugin.factory(db)
        if not operations <= set(handlers):
            raise PluginError(f"{module}: contract {plugin.contract} lacks {', '.join(sorted(operations - set(handlers)))}")
        self._handlers[plugin.contract] = handlers
        self.loaded[plugin.contract] = module

    async def call(self, contract: str, operation: str, message: Message) -> Message:
        """Look the plug-in up and hand it the message; its answer is a message too."""
        handler = self._handlers[contract][operation]
        key = f"{contract}.{operation}"
        self.calls[key] = self.calls.get(key, 0) + 1
        return await handler(dict(message))
