"""The Lambda zip: exactly what the handlers need, byte for byte the same for the same sources.

What goes in is found, not listed: the handler modules, every kit module they import at module level
(followed transitively), the data files those modules read, and the third-party packages they import
that the Lambda runtime does not provide (those must be pure Python). Entries are sorted and carry a
fixed timestamp and mode, so the zip and its CodeSha256 change only when the sources do, which is how
a redeploy knows there is nothing to update.
"""

from __future__ import annotations

import ast
import base64
import functools
import hashlib
import importlib.util
import io
import sys
import zipfile
from pathlib import Path
from typing import Iterable

from hello_winners.errors import DeployError
from hello_winners.deploy.lambda_platform import RUNTIME_PROVIDED

PACKAGE = "hello_winners"
HANDLERS = ("hello_winners.view.consumer.handler", "hello_winners.view.api.handler")
# Data files a kit module reads at run time, next to the module.
DATA_FILES = {"hello_winners.events": ("schemas/*.json",), "hello_winners.view.api": ("web/*.html",)}
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def build(handlers: Iterable[str] = HANDLERS) -> bytes:
    """The zip's bytes for ``handlers`` ("module.function" strings)."""
    files = {}
    for module in sorted(_closure(h.rpartition(".")[0] for h in handlers)):
        files.update(_module_files(module))
    return _zip(files)


def code_sha256(zip_bytes: bytes) -> str:
    """The CodeSha256 Lambda reports for a zip: base64 of its SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()


def _closure(modules):
    """Every module the given ones need at import time: kit modules and third-party packages."""
    seen, todo = set(), list(modules)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name.split(".")[0] == PACKAGE:
            todo.extend(_imports(name))
    return seen


def _imports(module):
    """Module-level imports of a kit module, resolved to module names (imports inside functions are lazy
    on purpose and stay out of the zip)."""
    path = _source(module)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}  # parent packages
    for node in _top_level_imports(path.read_text(), str(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if _is_module(f"{base}.{alias.name}"))
    return {name for name in found if _needed(name)}


@functools.lru_cache(maxsize=256)
def _top_level_imports(text, filename):
    """The import statements that run when the source ``text`` is imported; parsed once per text, as a
    process that deploys again (a notebook, the suite) builds the same zip from the same sources."""
    return tuple(node for node in _top_level(ast.parse(text, filename))
                 if isinstance(node, (ast.Import, ast.ImportFrom)))


def _top_level(tree):
    """Statements that run on import: the module body, descending into if/try/with but not functions."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.With)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                todo.extend(getattr(node, field, []))
        elif isinstance(node, ast.ExceptHandler):
            todo.extend(node.body)


def _needed(name):
    top = name.split(".")[0]
    return top not in sys.stdlib_module_names and top not in RUNTIME_PROVIDED and top != "__future__"


def _is_module(name):
    try:
        return name.split(".")[0] == PACKAGE and importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _source(module):
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise DeployError(f"the module {module} is not installed: install it (pip install -e .) and deploy again")
    return Path(spec.origin)


def _module_files(module):
    """{archive name: bytes} for one needed module: a kit module and its data, or a whole third-party package."""
    top = module.split(".")[0]
    if top == PACKAGE:
        path = _source(module)
        files = {path.relative_to(_package_root()).as_posix(): path.read_bytes()}
        for pattern in DATA_FILES.get(module, ()):
            files.update({p.relative_to(_package_root()).as_posix(): p.read_bytes()
                          for p in sorted(path.parent.glob(pattern))})
        return files
    return _third_party(top)


def _package_root():
    return _source(PACKAGE).parent.parent


def _third_party(top):
    spec = importlib.util.find_spec(top)
    if spec is None:
        raise DeployError(f"the handlers import {top}, which is not installed: pip install it and deploy again")
    if not spec.submodule_search_locations:
        path = Path(spec.origin)
        return {path.name: path.read_bytes()}
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        if path.suffix in (".so", ".pyd", ".dylib"):
            raise DeployError(
                f"the handlers import {top}, which is not pure Python ({path.name}): the Lambda zip can "
                "only carry pure-Python packages, so use a pure-Python alternative"
            )
        files[path.relative_to(folder.parent).as_posix()] = path.read_bytes()
    return files


def _zip(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name], compresslevel=9)
    return buffer.getvalue()
