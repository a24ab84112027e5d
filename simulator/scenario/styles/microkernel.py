"""Microkernel: a core system with plug-ins called in-process through a registry.

One deployable, ``core``, holds the core capabilities and the plug-ins. A call to a core
capability is a plain in-process call (``style.in_process_call``); a call to a plug-in goes
through the plug-in registry and contract (``style.microkernel.plugin_call`` of CPU: a lookup and
an adapter). There is no network between them. Like the monolith, it uses one shared database
``db`` and scales by replicating the whole unit.

Without ``core``, the core is the capabilities that start some request (the system's entry
points); the others are plug-ins.
"""

from __future__ import annotations

from ...suggest import did_you_mean, listing

from .building import Build, synchronous_layout

KIND = "microkernel"
DEPLOYABLE = "core"  #: The core system, with its plug-ins loaded.
DATABASE = "db"


def core_capabilities(b: Build) -> list[str]:
    """The capabilities of the core system (the rest are plug-ins)."""
    core = b.style.microkernel.core
    if core is None:
        return list(dict.fromkeys(spec.steps[0].use.partition(".")[0] for spec in b.app.requests.values()))
    for i, capability in enumerate(core):
        if capability not in b.app.capabilities:
            suggestion = did_you_mean(capability, b.app.capabilities)
            b.error(b.settings_path + ("core", i), f"no capability '{capability}' in the application{suggestion}; it has: {listing(b.app.capabilities)}")
    return list(core)


def compile(b: Build) -> None:
    """Build the core system with its plug-ins, over the shared database."""
    settings = b.style.microkernel
    core = set(core_capabilities(b))
    operations = synchronous_layout(
        b,
        deployable_of={c: DEPLOYABLE for c in b.app.capabilities},
        database_of={c: DATABASE for c in b.app.capabilities},
        local_call=lambda capability: b.style.in_process_call if capability in core else settings.plugin_call,
    )
    b.deployable(DEPLOYABLE, operations[DEPLOYABLE])
    b.database(DATABASE)
    b.facts["plugins"] = len(b.app.capabilities) - len(core)
    b.parameters["plugin_call_s"] = settings.plugin_call.mean
