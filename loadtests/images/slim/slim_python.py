"""Copy the parts of this Python that a service uses into a root filesystem for a FROM-scratch image.

    python3 slim_python.py DEST

Run by the builder image's own interpreter, so the paths are whatever that Python uses (Debian's
``/usr`` or a ``python:3.x-slim`` image's ``/usr/local``). DEST receives:

- the interpreter binary (and a ``python3`` link) with its shared libraries (``closure.sh``);
- the standard library compiled to byte code only (no ``.py`` sources), deflated into the
  ``pythonXY.zip`` that CPython puts first on ``sys.path``, without the packages no service
  imports (:data:`DROPPED`);
- ``os.pyc`` in the stdlib directory, the landmark by which CPython finds its prefix;
- the extension modules of ``lib-dynload`` except :data:`DROPPED_EXTENSIONS`, with their
  libraries.

Tracebacks through the standard library therefore show file and line but no source text: the
price of a stdlib a third its size. Nothing of pip, ensurepip or a compiler is copied.
"""

from __future__ import annotations

import compileall
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

DROPPED = {
    "test", "idlelib", "tkinter", "turtledemo", "turtle.py", "ensurepip", "lib2to3", "pydoc_data",
    "distutils", "venv", "__phello__", "site-packages", "dist-packages", "lib-dynload",
    "config-{ver}-{multiarch}", "curses", "dbm", "xmlrpc", "wsgiref", "msilib", "_pydecimal.py",
    "pydoc.py", "doctest.py", "tabnanny.py", "pdb.py", "unittest",
}  #: Top-level stdlib names no reference service imports (tests, IDEs, GUIs, packaging, debuggers).
DROPPED_EXTENSIONS = ("_test", "xx", "_ctypes_test", "_curses", "readline", "_dbm", "_gdbm", "nis", "ossaudiodev", "_tkinter")
CLOSURE = Path(__file__).with_name("closure.sh")


def stdlib_zip(stdlib: Path, archive: Path) -> int:
    """Compile the stdlib to sourceless byte code and deflate it into ``archive``; return the file count."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    dropped = {name.format(ver=version, multiarch=sysconfig.get_config_var("MULTIARCH") or "") for name in DROPPED}
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "stdlib"
        shutil.copytree(stdlib, tree, ignore=lambda folder, names: [
            n for n in names
            if n == "__pycache__" or (Path(folder) == stdlib and n in dropped)
        ])
        # legacy layout (foo.pyc beside foo.py), tracebacks naming the real stdlib path
        if not compileall.compile_dir(tree, quiet=2, legacy=True, ddir=str(stdlib), workers=1,
                                      invalidation_mode=compileall.py_compile.PycInvalidationMode.UNCHECKED_HASH):
            raise SystemExit("slim_python: the standard library did not compile")
        count = 0
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
            for path in sorted(tree.rglob("*.pyc")):
                out.write(path, path.relative_to(tree).as_posix())
                count += 1
        shutil.copy2(tree / "os.pyc", archive.parent / stdlib.name / "os.pyc")  # prefix landmark
    return count


def main(dest: Path) -> None:
    executable = Path(os.path.realpath(sys.executable))
    stdlib = Path(sysconfig.get_path("stdlib"))
    dynload = Path(sysconfig.get_path("platstdlib")) / "lib-dynload"
    archive_name = next((p for p in sys.path if p.endswith(".zip")), None)
    if archive_name is None:
        raise SystemExit("slim_python: this Python has no stdlib zip on sys.path")
    archive = dest / archive_name.lstrip("/")
    (archive.parent / stdlib.name).mkdir(parents=True, exist_ok=True)
    count = stdlib_zip(stdlib, archive)

    extensions = [p for p in sorted(dynload.glob("*.so")) if not p.name.startswith(DROPPED_EXTENSIONS)]
    subprocess.run(["sh", str(CLOSURE), str(dest), str(executable), *map(str, extensions)], check=True)
    link = dest / executable.parent.relative_to("/") / "python3"
    if not link.exists():
        link.symlink_to(executable.name)
    size_mb = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6
    print(f"slim_python: {executable} with {count} stdlib modules, {len(extensions)} extensions: {size_mb:.1f} MB")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]))
