"""The package's architecture, as invariants: what ships in the zip, which way imports run, house style.

Each folder of ``hello_winners`` is one part of the system; these tests keep it readable from the
folder names: the Lambda zip holds only the events and the winner view, imports run one way through
the layers below, and every module says why it exists.
"""

import ast
import io
import zipfile
from pathlib import Path

import pytest

from hello_winners.deploy import bundle

PACKAGE = Path(bundle.__file__).resolve().parents[1]

# Lowest first: a module may import its own part and anything in a lower layer, never a higher one.
# Parts on the same layer (analysis, deploy) do not import each other.
LAYERS = [
    {"hello_winners", "hello_winners.errors", "hello_winners.data"},
    {"hello_winners.naming", "hello_winners.pages", "hello_winners.state", "hello_winners.lambda_platform"},
    {"hello_winners.target_choice"},
    {"hello_winners.events"},
    {"hello_winners.view"},
    {"hello_winners.game"},
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
# The one import that points up: the targets module picks the embedded implementation (see its docstring).
ALLOWED_UP = {("hello_winners.targets", "hello_winners.embedded.target")}
# Exercise solutions are pasted into the notebooks as participants write them: their signatures stay plain.
UNHINTED = {"hello_winners.workshop.exercises.solutions", "hello_winners.workshop.exercises.checks"}


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


def imports(path, top_level_only=False):
    """The kit modules a file imports (``from pkg import sub`` counts as importing ``pkg.sub``)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
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
        if part(target) != part(module) and (module, target) not in ALLOWED_UP
        and (layer(target) > layer(module) or layer(target) == layer(module))
    )
    assert not wrong, f"{module} imports {wrong}, which sit at or above its layer"


def test_deploy_never_imports_the_embedded_package():
    for module, path in modules():
        if part(module) == "hello_winners.deploy":
            assert not [t for t in imports(path) if part(t) == "hello_winners.embedded"], module


def test_module_level_imports_have_no_cycle():
    graph = {module: imports(path, top_level_only=True) for module, path in modules()}
    done, active = set(), []

    def visit(module):
        if module in active:
            raise AssertionError("import cycle: " + " -> ".join(active[active.index(module):] + [module]))
        if module in done or module not in graph:
            return
        active.append(module)
        for target in sorted(graph[module]):
            visit(target)
        active.pop()
        done.add(module)

    for module in graph:
        visit(module)


@pytest.mark.parametrize("module, path", list(modules()), ids=[name for name, _ in modules()])
def test_every_module_says_why_it_exists_and_imports_absolutely(module, path):
    tree = ast.parse(path.read_text())
    if path.name != "__main__.py":
        assert ast.get_docstring(tree), f"{module} has no module docstring"
    relative = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level]
    assert not relative, f"{module} has relative imports on lines {relative}"


@pytest.mark.parametrize("module, path", [(m, p) for m, p in modules() if m not in UNHINTED],
                         ids=[m for m, _ in modules() if m not in UNHINTED])
def test_public_functions_have_type_hints(module, path):
    tree = ast.parse(path.read_text())
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
