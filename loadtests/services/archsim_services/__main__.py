"""Start one service role: ``python -m archsim_services ROLE`` (or ``ARCHSIM_ROLE``).

Roles: ``monolith``; ``service`` (a microservice, see ``ARCHSIM_CAPABILITY``); ``gateway``;
``api`` and ``worker`` (event-driven); ``unit`` and ``pump`` (space-based); ``domain`` (a
service-based domain service, see ``ARCHSIM_CAPABILITIES``); ``microkernel`` (the core with its
plug-ins).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> None:
    role = argv[1] if len(argv) > 1 else os.environ.get("ARCHSIM_ROLE", "")
    from . import event_driven, gateway, microkernel, microservices, monolith, service_based, space_based
    from .web import serve

    builders = {
        "monolith": monolith.build_app,
        "service": microservices.build_app,
        "gateway": gateway.build_app,
        "api": event_driven.build_api,
        "worker": event_driven.build_worker,
        "unit": space_based.build_unit,
        "pump": space_based.build_pump,
        "domain": service_based.build_app,
        "microkernel": microkernel.build_app,
    }
    if role not in builders:
        raise SystemExit(f"usage: python -m archsim_services {{{'|'.join(builders)}}}")
    serve(builders[role]())


if __name__ == "__main__":
    main(sys.argv)
