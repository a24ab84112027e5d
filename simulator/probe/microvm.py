"""A microVM: QEMU booting Debian's cloud kernel with a small busybox initramfs running ``httpd``.

The kernel and its virtio network modules come from ``loadtests/ci/setup-vm.sh`` (into
``loadtests/build/vm/``); the initramfs (busybox-static, the modules, an ``/init`` that loads
them, brings up ``eth0`` and starts busybox ``httpd`` on port 80) is made here with ``cpio``. QEMU
forwards a free loopback port to the guest's port 80 (user networking). The guest clock is not
the host's, so ``started`` and ``listening`` are the host times at which the init's
``archsim-probe: init`` and ``archsim-probe: listening`` lines arrive on the serial console.

Acceleration: KVM when ``/dev/kvm`` is usable and a KVM boot works, else software emulation
(TCG), which is many times slower; the result says which was used and why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

from simulator.deploy.images import loadtests_dir
from simulator.deploy.lifecycle import free_port
from simulator.errors import EnvironmentProblem

from .phases import StartUp, first_answer

TIMEOUT_S = 120.0  #: Software emulation on a busy 2-core machine boots in about 5-10 s.
KVM_TRIAL_S = 10.0  #: A KVM guest that prints nothing on its console this long is taken as not working.
MEMORY_MB = 128
INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "archsim-probe: init"
for module in {modules}; do insmod /modules/$module.ko || echo "archsim-probe: insmod $module failed"; done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
httpd -p 80 -h /www
echo "archsim-probe: listening"
while true; do sleep 3600; done
"""


def vm_dir() -> Path:
    return loadtests_dir() / "build" / "vm"


def kernel() -> Path:
    found = sorted(vm_dir().glob("vmlinuz-*"))
    if not found or not (vm_dir() / "modules" / "order").is_file():
        raise EnvironmentProblem("no kernel in loadtests/build/vm: run 'sudo bash loadtests/ci/setup-vm.sh' (QEMU, busybox-static, cpio, Debian's cloud kernel)")
    return found[-1]


def qemu() -> str:
    binary = shutil.which("qemu-system-x86_64")
    if binary is None or os.uname().machine not in ("x86_64", "amd64"):
        raise EnvironmentProblem("the microVM probe needs qemu-system-x86_64 on an x86-64 host: run 'sudo bash loadtests/ci/setup-vm.sh'")
    return binary


def initramfs() -> Path:
    """The probe's initramfs (uncompressed newc cpio), made once per module list."""
    busybox = shutil.which("busybox")
    if busybox is None or shutil.which("cpio") is None:
        raise EnvironmentProblem("the microVM probe needs busybox-static and cpio: run 'sudo bash loadtests/ci/setup-vm.sh'")
    modules = (vm_dir() / "modules" / "order").read_text().split()
    target = vm_dir() / "probe-initramfs.cpio"
    script = INIT.format(modules=" ".join(modules))
    stamp = vm_dir() / "probe-initramfs.init"
    if target.is_file() and stamp.is_file() and stamp.read_text() == script:
        return target
    root = vm_dir() / "probe-root"
    shutil.rmtree(root, ignore_errors=True)
    for folder in ("bin", "modules", "www", "proc", "sys", "dev"):
        (root / folder).mkdir(parents=True)
    shutil.copy2(busybox, root / "bin" / "busybox")
    for module in modules:
        shutil.copy2(vm_dir() / "modules" / f"{module}.ko", root / "modules")
    (root / "www" / "index.html").write_text("ok\n")
    (root / "init").write_text(script)
    (root / "init").chmod(0o755)
    names = "\n".join(sorted(str(p.relative_to(root)) for p in root.rglob("*"))) + "\n"
    with open(target, "wb") as out:
        subprocess.run(["cpio", "--create", "--format=newc", "--quiet"], input=names.encode(), stdout=out, cwd=root, check=True)
    stamp.write_text(script)
    shutil.rmtree(root)
    return target


def kvm_usable() -> bool:
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


def argv(accelerator: str, port: int) -> list[str]:
    return [
        qemu(), "-machine", "pc", "-accel", accelerator, "-cpu", "host" if accelerator == "kvm" else "max",
        "-smp", "1", "-m", str(MEMORY_MB), "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio",
        "-kernel", str(kernel()), "-initrd", str(initramfs()), "-append", "console=ttyS0 quiet panic=-1",
        "-netdev", f"user,id=net0,hostfwd=tcp:127.0.0.1:{port}-:80", "-device", "virtio-net-pci,netdev=net0,romfile=",
        "-no-reboot",
    ]


def start_once(accelerator: str, silent_limit_s: float | None = None) -> StartUp:
    """Boot one microVM with ``accelerator`` (``kvm`` or ``tcg``), wait for its first 200, stop it.

    ``silent_limit_s``: give up if the guest has printed nothing on its console after that long
    (KVM that fails, e.g. nested without the MSRs the guest needs, hangs silently).
    """
    port = free_port()
    command = argv(accelerator, port)
    startup = StartUp(notes={"accelerator": accelerator, "machine": "pc", "kernel": kernel().name})
    # without "quiet" a guest prints at once; a trial must see it, a measured boot stays quiet
    if silent_limit_s is not None:
        command[command.index("console=ttyS0 quiet panic=-1")] = "console=ttyS0 panic=-1"
    console: list[str] = []
    startup.mark("asked")
    vm = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    startup.mark("created")

    def read() -> None:
        for raw in vm.stdout:
            line = raw.decode(errors="replace").strip()
            console.append(line)
            for moment, marker in (("started", "archsim-probe: init"), ("listening", "archsim-probe: listening")):
                if marker in line and moment not in startup.moments:
                    startup.mark(moment)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        def alive() -> str | None:
            if silent_limit_s is not None and not console and time.time() - startup.moments["created"] > silent_limit_s:
                return f"QEMU ({accelerator}) printed nothing on the console in {silent_limit_s:.0f} s"
            if vm.poll() is None:
                return None
            reader.join(timeout=1)
            return f"QEMU ({accelerator}) exited with {vm.returncode}: {(console or ['no output'])[-1][:200]}"

        startup.mark("answered", first_answer("127.0.0.1", port, time.time() + TIMEOUT_S, alive))
        if "listening" not in startup.moments:  # the console line may trail the first answer
            reader.join(timeout=0.5)
    finally:
        vm.kill()
        vm.wait()
    failed = [line for line in console if "insmod" in line and "failed" in line]
    if failed:
        startup.notes["warning"] = "; ".join(failed)
    return startup
