"""archsim: an architecture trade-off simulator and benchmark harness.

The package is split by concept: ``scenario`` (YAML -> validated model), ``engine`` (the SimPy
discrete-event simulation), ``analysis`` (queueing theory), ``results`` (run directories),
``cli`` (the ``archsim`` command). See ``docs/architecture.md`` for the map.

``__version__`` is read on first use: importing the package imports nothing else, so the
``archsim`` entry point (:mod:`simulator.entry`) runs its Ctrl-C handler within a few milliseconds.
"""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("archsim")
    except PackageNotFoundError:  # running from a source tree that is not installed
        found = "0.0.0+source"
    globals()["__version__"] = found
    return found
