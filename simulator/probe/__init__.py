"""Measured start-up on this machine: ``archsim probe startup``.

How long does it take from asking for an instance to its first successful HTTP response, on a
plain process, a container (warm: image present; cold: image loaded from an archive) and a QEMU
microVM? :mod:`.phases` times one start-up and its visible phases, :mod:`.process`,
:mod:`.container` and :mod:`.microvm` start each kind of instance, :mod:`.profile` turns repeated
measurements into medians, spreads and the start-up profiles the platform models read
(``platform: {profile: FILE}``, see docs/platforms.md), and :mod:`.cli` is the command.
"""
