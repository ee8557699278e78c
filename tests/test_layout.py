"""The package's architecture, as invariants: what ships in the zip, which way imports run, house style.

Each folder of ``hello_winners`` is one part of the system; these tests keep it readable from the
folder names: the Lambda zip holds only the events and the winner view, imports run one way through
the layers below, and every module says why it exists.
"""

import ast
import functools
import io
import re
import zipfile
from pathlib import Path

import pytest

from hello_winners.deploy import bundle

PACKAGE = Path(bundle.__file__).resolve().parents[1]

# Lowest first: a module may import its own part and anything in a lower layer, never a higher one.
# Parts on the same layer (analysis, deploy) do not import each other.
LAYERS = [
    {"hello_winners", "hello_winners.errors", "hello_winners.data"},
    {"hello_winners.naming"},
    {"hello_winners.events"},
    {"hello_winners.view"},
    {"hello_winners.game"},
    # Which target, its state folder, and the clients: real AWS here, other targets found by name (plugins).
    {"hello_winners.targets"},
    {"hello_winners.analysis", "hello_winners.deploy"},
    # The embedded AWS enforces the participant's policy, which deploy defines: it sits above deploy.
    {"hello_winners.embedded"},
    # The room plays the game (events, game, view) on a deployed stage (targets, deploy) and keeps its
    # server running as the embedded AWS keeps its own (embedded.detached): above them, below the workshop.
    {"hello_winners.room"},
    {"hello_winners.workshop"},
    {"hello_winners.cli"},
    {"hello_winners.__main__"},
]
# At most these modules stand at the top of the package; everything else lives in the folder of its part.
TOP_LEVEL = {"__init__", "__main__", "cli", "errors", "naming"}
# Exercise solutions are pasted into the notebooks as participants write them: their signatures stay plain.
UNHINTED = {"hello_winners.workshop.exercises.solutions", "hello_winners.workshop.exercises.checks"}  # and their modules


def modules():
    """(dotted name, path) of every module of the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def part(module):
    """The part of the package a module belongs to: its folder, or the top-level module itself."""
    pieces = module.split(".")
    return ".".join(pieces[:2]) if len(pieces) > 1 else module


def layer(module):
    found = part(module)
    return next(i for i, members in enumerate(LAYERS) if found in members)


def imports(path):
    """The kit modules a file imports, anywhere in it (``from pkg import sub`` counts as importing ``pkg.sub``)."""
    return _imported(tree_of(path))


@functools.cache
def tree_of(path):
    """A module's syntax tree, parsed once for all the tests that read it (none changes it)."""
    return ast.parse(path.read_text())


def _imported(tree):
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if _is_module(candidate) else node.module)
    return {name for name in found if name.split(".")[0] == "hello_winners"}


def _is_module(name):
    relative = Path(*name.split("."))
    return (PACKAGE.parent / relative).with_suffix(".py").is_file() or (PACKAGE.parent / relative / "__init__.py").is_file()


def test_the_lambda_zip_holds_only_the_events_the_winner_view_and_the_error_types():
    names = zipfile.ZipFile(io.BytesIO(bundle.build())).namelist()
    kit = [name for name in names if name.startswith("hello_winners/")]
    allowed = ("hello_winners/events/", "hello_winners/view/")
    assert all(name.startswith(allowed) or name in ("hello_winners/__init__.py", "hello_winners/errors.py")
               for name in kit), sorted(kit)
    assert "hello_winners/view/consumer.py" in kit and "hello_winners/view/api.py" in kit
    assert not any(name.startswith(("pandas/", "boto3/", "botocore/", "moto/")) for name in names)


@pytest.mark.parametrize("module, path", list(modules()), ids=[name for name, _ in modules()])
def test_imports_run_one_way_through_the_layers(module, path):
    wrong = sorted(
        target for target in imports(path)
        if part(target) != part(module) and layer(target) >= layer(module)
    )
    assert not wrong, f"{module} imports {wrong}, which sit at or above its layer"


def test_deploy_never_imports_the_embedded_package():
    for module, path in modules():
        if part(module) == "hello_winners.deploy":
            assert not [t for t in imports(path) if part(t) == "hello_winners.embedded"], module


def cycle(graph):
    """One import circle of ``graph`` (module -> modules it imports), as a path that ends where it began; or None."""
    done, active = set(), []

    def visit(module):
        if module in active:
            return active[active.index(module):] + [module]
        if module in done or module not in graph:
            return None
        active.append(module)
        for target in sorted(graph[module]):
            found = visit(target)
            if found:
                return found
        active.pop()
        done.add(module)
        return None

    return next((found for found in map(visit, sorted(graph)) if found), None)


def test_the_cycle_finder_finds_a_circle_through_any_kind_of_import():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import hello_winners.errors\n"
                     "def f():\n    from hello_winners import naming\n")
    assert _imported(tree) == {"hello_winners.errors", "hello_winners.naming"}


def test_no_module_of_the_package_imports_in_a_circle():
    """Every import counts: at the top, inside a function, or only for type checking."""
    graph = {module: imports(path) for module, path in modules()}
    found = cycle(graph)
    assert found is None, "import circle: " + " -> ".join(found)


def test_the_top_of_the_package_holds_only_the_command_the_errors_and_the_names():
    top = {path.stem for path in PACKAGE.glob("*.py")}
    assert top <= TOP_LEVEL, f"move {sorted(top - TOP_LEVEL)} into the folder of the part it belongs to"


@pytest.mark.parametrize("module, path", list(modules()), ids=[name for name, _ in modules()])
def test_every_module_says_why_it_exists_and_imports_absolutely(module, path):
    tree = tree_of(path)
    if path.name != "__main__.py":
        assert ast.get_docstring(tree), f"{module} has no module docstring"
    relative = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level]
    assert not relative, f"{module} has relative imports on lines {relative}"


def _hinted(module):
    return not any(module == name or module.startswith(name + ".") for name in UNHINTED)


@pytest.mark.parametrize("module, path", [(m, p) for m, p in modules() if _hinted(m)],
                         ids=[m for m, _ in modules() if _hinted(m)])
def test_public_functions_have_type_hints(module, path):
    tree = tree_of(path)
    functions = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for cls in (node for node in tree.body if isinstance(node, ast.ClassDef) and not node.name.startswith("_")):
        functions += [node for node in cls.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and (not node.name.startswith("_") or node.name == "__init__")]
    missing = []
    for function in functions:
        if function.name.startswith("_") and function.name != "__init__":
            continue
        arguments = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
        unhinted = [a.arg for a in arguments if a.annotation is None and a.arg not in ("self", "cls")]
        if unhinted or (function.returns is None and function.name != "__init__"):
            missing.append(f"{function.name}({', '.join(unhinted)})" if unhinted else f"{function.name} -> ?")
    assert not missing, f"{module}: public functions without type hints: {missing}"


def test_every_folder_of_the_package_ships_in_a_built_install():
    """pyproject.toml lists the packages one by one: a new folder left out would be missing from `pip install .`."""
    text = (PACKAGE.parent / "pyproject.toml").read_text()  # tomllib is 3.11's: the pure tier runs on 3.10 too
    listed = set(re.findall(r'"(hello_winners[\w.]*)"', text.split("packages = [", 1)[1].split("]", 1)[0]))
    folders = {".".join(path.parent.relative_to(PACKAGE.parent).parts) for path in PACKAGE.rglob("__init__.py")}
    assert folders - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_test_modules_share_helpers_through_helper_modules_only():
    """A test module that imports another runs or hides that module's tests with it: helpers go in a helper module."""
    tests = Path(__file__).parent
    test_modules = {path.stem for path in tests.glob("test_*.py")}
    for path in tests.glob("*.py"):
        imported = set()
        for node in ast.walk(tree_of(path)):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                imported.update(alias.name for alias in node.names)
        assert not imported & test_modules, f"{path.name} imports the test module(s) {sorted(imported & test_modules)}"
