"""archsim: an architecture trade-off simulator and benchmark harness.

The package is split by concept: ``scenario`` (YAML -> validated model), ``engine`` (the SimPy
discrete-event simulation), ``analysis`` (queueing theory), ``results`` (run directories),
``cli`` (the ``archsim`` command). See ``docs/architecture.md`` for the map.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("archsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
