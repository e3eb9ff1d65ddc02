"""What pyproject.toml and the README claim about versions and tests is what CI
runs; and the tests import their helpers from the package, not from conftest."""

import ast
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

import pytest
from packaging.version import Version

tomllib = pytest.importorskip("tomllib")

ROOT = pathlib.Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([0-9][^\s#]*)")
FLOOR = re.compile(r"^([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][^,;\s]*)")


def _normal(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _dependencies():
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["dependencies"]


def _tested_extras():
    """The requirements of the extras the dev extra pulls in (the tests run them)."""
    with open(ROOT / "pyproject.toml", "rb") as file:
        extras = tomllib.load(file)["project"]["optional-dependencies"]
    (own,) = [r for r in extras["dev"] if r.startswith("sklearn-mmer[")]
    names = own[len("sklearn-mmer[") : own.index("]")].split(",")
    return [requirement for name in names for requirement in extras[name]]


def test_every_floor_is_pinned_in_the_oldest_environment():
    floors = {}
    for requirement in _dependencies() + _tested_extras():
        match = FLOOR.match(requirement)
        assert match, f"{requirement!r} declares no >= floor for CI to test"
        floors[_normal(match.group(1))] = Version(match.group(2))
    text = (ROOT / "scripts" / "oldest-constraints.txt").read_text()
    pins = {
        _normal(m.group(1)): Version(m.group(2))
        for m in map(PIN.match, text.splitlines())
        if m is not None
    }
    assert {name: pins.get(name) for name in floors} == floors


def _readme_test_command():
    """The README's quick-start test command, as the shell would split it."""
    quick_start = (ROOT / "README.md").read_text().split("## Quick start", 1)[1]
    block = quick_start.split("```bash\n", 1)[1].split("```", 1)[0]
    (line,) = [line for line in block.splitlines() if line.endswith("# tests")]
    return shlex.split(line, comments=True)


# The programs .ci/run calls, replaced by stubs that log their arguments (and
# fail when their name is in $FAIL), so that the script runs in a moment.
STUBS = [
    "scripts/setup.sh",
    "scripts/setup_oldest.sh",
    "scripts/build_docs.sh",
    ".venv/bin/python",
    ".venv-oldest/bin/python",
]


def _stub_tree(folder):
    for stub in STUBS:
        path = folder / stub
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "#!/bin/sh\n"
            f'echo {stub} "$@" >> "$CALLS"\n'
            f'case " $FAIL " in *" {stub} "*) exit 3;; esac\n'
        )
        path.chmod(0o755)
    (folder / ".ci").mkdir()
    shutil.copy2(ROOT / ".ci" / "run", folder / ".ci" / "run")
    # what .ci/run sources (its retry), as it is
    shutil.copy2(ROOT / "scripts" / "_install.sh", folder / "scripts" / "_install.sh")
    return folder


def _calls(folder, command, fail=""):
    calls = folder / "calls.log"
    calls.unlink(missing_ok=True)
    env = {**os.environ, "CALLS": str(calls), "FAIL": fail}
    status = subprocess.run(command, cwd=folder, env=env).returncode
    return status, calls.read_text().splitlines() if calls.exists() else []


def test_ci_script_is_executable():
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_ci_runs_the_readme_command_then_the_oldest_environment_and_docs(tmp_path):
    tree = _stub_tree(tmp_path)
    _, readme = _calls(tree, ["bash", "-ec", " ".join(_readme_test_command())])
    status, ci = _calls(tree, [str(tree / ".ci" / "run")])
    assert status == 0
    assert readme[-1].startswith(".venv/bin/python -m pytest")
    assert ci[: len(readme)] == readme
    oldest = ci[len(readme) : len(readme) + 2]
    assert oldest[0] == "scripts/setup_oldest.sh"
    assert oldest[1].startswith(".venv-oldest/bin/python -m pytest")
    assert ci[-1] == "scripts/build_docs.sh"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_ci_stops_with_an_error_when_the_tests_fail(tmp_path):
    tree = _stub_tree(tmp_path)
    status, ci = _calls(tree, [str(tree / ".ci" / "run")], fail=".venv/bin/python")
    assert status != 0
    assert ci == ["scripts/setup.sh", ".venv/bin/python -m pytest"]


def test_no_test_module_imports_conftest():
    # helpers live in sklearn_mmer._testing: a conftest imported as a module
    # is a second copy of it, and is not importable in worker processes
    found = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            found += [f"{path.name}: {n}" for n in names if "conftest" in n.split(".")]
    assert found == []


# --- the package's imports, read from its source (nothing imported) -----------

PACKAGE = ROOT / "sklearn_mmer"


def _modules():
    """``{dotted name: (path, is a package)}`` of every module of sklearn_mmer."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _import_graph():
    """``{module: modules of the package it imports}``, every import counted:
    at the top, inside functions, under ``if``. ``from a import b`` is an edge
    to the module ``a.b`` when there is one, else to ``a``."""
    modules = _modules()
    graph = {}
    for name, (path, is_package) in modules.items():
        base = name if is_package else name.rpartition(".")[0]
        imported = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name in modules}
            elif isinstance(node, ast.ImportFrom):
                target = node.module or ""
                if node.level:
                    parts = base.split(".")[: len(base.split(".")) - node.level + 1]
                    target = ".".join(parts + ([node.module] if node.module else []))
                for alias in node.names:
                    if f"{target}.{alias.name}" in modules:
                        imported.add(f"{target}.{alias.name}")
                    elif target in modules:
                        imported.add(target)
        graph[name] = imported - {name}
    return graph


def _cycles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while node not in component:
                component.add(stack.pop())
            on_stack.difference_update(component)
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_import_graph_sees_function_local_and_relative_imports():
    graph = _import_graph()
    # cli/compare.py imports evaluation inside its functions only
    assert "sklearn_mmer.evaluation" in graph["sklearn_mmer.cli.compare"]
    assert "sklearn_mmer.cli._common" in graph["sklearn_mmer.cli.compare"]
    assert "sklearn_mmer.cli.compare" in graph["sklearn_mmer.cli"]


def test_no_import_cycle_among_the_package_modules():
    assert _cycles(_import_graph()) == []


EVALUATION = "sklearn_mmer.evaluation"
REPORTING = f"{EVALUATION}._reporting"
#: evaluation's modules that both its halves may import: the results schema,
#: the metrics and the atomic file writes
SHARED = {f"{EVALUATION}.{name}" for name in ("_schema", "_metrics", "_files")}


def _evaluation_halves(graph):
    """``(driver, reporting)``: evaluation's modules, its face and the shared
    modules left out."""
    modules = {n for n in graph if n.startswith(f"{EVALUATION}.")} - SHARED
    reporting = {n for n in modules if n == REPORTING or n.startswith(REPORTING)}
    return modules - reporting, reporting


def test_evaluation_reporting_never_imports_the_driver():
    graph = _import_graph()
    driver, reporting = _evaluation_halves(graph)
    assert {f"{REPORTING}.stats", f"{REPORTING}.plots"} <= reporting
    assert {f"{EVALUATION}._compare", f"{EVALUATION}._checkpoint"} <= driver
    for module in sorted(reporting):
        assert not graph[module] & driver, f"{module} imports the driver"
        assert EVALUATION not in graph[module], f"{module} imports evaluation"


def test_evaluation_driver_reads_reporting_only_through_its_face():
    graph = _import_graph()
    driver, reporting = _evaluation_halves(graph)
    for module in sorted(driver - {REPORTING}):
        inside = graph[module] & (reporting - {REPORTING})
        assert not inside, f"{module} imports the reporting's modules {inside}"


def test_evaluation_shared_modules_import_neither_half():
    graph = _import_graph()
    driver, reporting = _evaluation_halves(graph)
    for module in sorted(SHARED):
        assert not graph[module] & (driver | reporting), module
        assert EVALUATION not in graph[module], module


@pytest.mark.parametrize("package", ["cli", "evaluation"])
def test_modules_of_the_command_and_evaluation_stay_readable(package):
    # the house's bound: one concept per module, under ~500 lines
    for path in sorted((PACKAGE / package).rglob("*.py")):
        lines = len(path.read_text("utf-8").splitlines())
        assert lines <= 500, f"{path.relative_to(ROOT)}: {lines} lines"


def test_no_cli_command_imports_another_and_nothing_imports_the_cli():
    graph = _import_graph()
    commands = {
        name
        for name in graph
        if name.startswith("sklearn_mmer.cli.")
        and not name.rpartition(".")[2].startswith("_")
    }
    assert {"compare", "fit", "predict", "methods"} <= {
        c.rpartition(".")[2] for c in commands
    }
    for command in sorted(commands):
        assert not graph[command] & commands, f"{command} imports another command"
    # python -m sklearn_mmer, and the tests' run() helper, call the command
    callers = {"sklearn_mmer.__main__", "sklearn_mmer._testing"}
    for name, imported in graph.items():
        if not name.startswith("sklearn_mmer.cli") and name not in callers:
            cli = {m for m in imported if m.startswith("sklearn_mmer.cli")}
            assert not cli, f"{name} imports the command line ({cli})"


def loaded_after(code, modules):
    """What a fresh interpreter writes on stderr after running ``code`` (which
    must succeed): the sorted list of ``modules`` it has loaded, after anything
    ``code`` itself wrote there."""
    code += (
        "import sys\n"
        f"print(sorted(m for m in {modules!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return done.stderr.strip()


def test_mmer_help_imports_neither_torch_nor_scikit_learn():
    code = (
        "from sklearn_mmer.cli import main\n"
        "for command in ([], ['compare'], ['fit'], ['predict'], ['methods']):\n"
        "    try:\n"
        "        main([*command, '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
    )
    assert loaded_after(code, ("torch", "sklearn", "pandas", "skorch")) == "[]"


class _SentToWorkers:
    """Stands in for joblib's ``Parallel`` in ``compare_methods``: keeps each
    call, pickled as it would travel to a worker process, and runs it here."""

    sent = []

    def __init__(self, **kwargs):
        pass

    def __call__(self, calls):
        import pickle

        for function, args, kwargs in calls:
            self.sent.append(pickle.dumps((function, args, kwargs)))
            yield function(*args, **kwargs)


def test_a_worker_fitting_scikit_learn_classifiers_never_imports_torch(
    monkeypatch, tmp_path
):
    """A worker process loads what a fit task needs: for a late fusion of
    scikit-learn classifiers, neither torch (seconds to import, and seconds
    more for its first optimiser step) nor the plots."""
    from sklearn.linear_model import LogisticRegression

    from sklearn_mmer._testing import make_tiny_corpus
    from sklearn_mmer.evaluation import _compare, compare_methods
    from sklearn_mmer.fusion import make_late_fusion

    X, y, speakers = make_tiny_corpus(n_utterances=24, n_speakers=4)
    monkeypatch.setattr(_compare, "Parallel", _SentToWorkers)
    _SentToWorkers.sent = []
    late = make_late_fusion(["visual", "lexical"], classifier=LogisticRegression())
    compare_methods({"late_fusion": late}, X, y, speakers, cv=2, n_jobs=2)
    assert len(_SentToWorkers.sent) == 4  # two members, two folds
    task = tmp_path / "task.pkl"
    task.write_bytes(_SentToWorkers.sent[0])
    code = (
        "import pathlib, pickle\n"
        f"task = pathlib.Path({str(task)!r}).read_bytes()\n"
        "function, args, kwargs = pickle.loads(task)\n"
        "outcome = function(*args, **kwargs)\n"
        "assert not outcome.error, outcome.error\n"
    )
    heavy = ("torch", "skorch", "matplotlib", "sklearn_mmer.methods")
    assert loaded_after(code, heavy) == "[]"


def test_reading_results_imports_no_matplotlib():
    """Tables, statistics and model cards (mmer fit, mmer serve, mmer compare
    --no-figures) do without matplotlib (the figures, drawn in this process
    by test_plots.py, import it)."""
    code = (
        "from sklearn_mmer.evaluation import model_card, save_comparison, summarize\n"
        "import sys\n"
        "assert 'sklearn_mmer.evaluation._reporting.plots' in sys.modules\n"
    )
    assert loaded_after(code, ("matplotlib", "PIL")) == "[]"


def test_loading_a_model_file_to_predict_builds_no_optimizer(tmp_path):
    """``mmer predict`` and ``mmer serve`` load a model only to predict: no
    optimiser is built, so torch's compiler (which torch's optimisers import,
    seconds on a small machine) is never imported, and the predictions are
    the fitted model's."""
    import numpy as np

    import sklearn_mmer
    from sklearn_mmer._testing import make_tiny_corpus
    from sklearn_mmer.fusion import make_late_fusion
    from sklearn_mmer.neural import MLPClassifier

    X, y, _ = make_tiny_corpus(n_utterances=24, n_speakers=4)
    late = make_late_fusion(
        ["visual", "lexical"], classifier=MLPClassifier((8,), max_iter=2), voting="soft"
    ).fit(X, y)
    sklearn_mmer.save(late, tmp_path / "late.mmer")
    np.save(tmp_path / "expected.npy", late.predict_proba(X))
    code = (
        "import numpy as np\n"
        "from sklearn_mmer import load\n"
        "from sklearn_mmer._testing import make_tiny_corpus\n"
        "X, _, _ = make_tiny_corpus(n_utterances=24, n_speakers=4)\n"
        f"model = load({str(tmp_path / 'late.mmer')!r})\n"
        f"expected = np.load({str(tmp_path / 'expected.npy')!r})\n"
        "assert np.array_equal(model.predict_proba(X), expected)\n"
    )
    assert loaded_after(code, ("torch", "torch._dynamo")) == "['torch']"


@pytest.mark.parametrize(
    "package", ["sklearn_mmer.methods", "sklearn_mmer.evaluation._reporting"]
)
def test_evaluation_reexports_every_name_of_the_packages_it_loads_lazily(package):
    """evaluation's lazy map lists these packages' names a second time (it
    cannot read their ``__all__`` without importing them): none is missing."""
    import importlib

    from sklearn_mmer import evaluation

    source = importlib.import_module(package)
    for name in source.__all__:
        assert getattr(evaluation, name) is getattr(source, name), name
        assert name in evaluation.__all__ and name in dir(evaluation), name
