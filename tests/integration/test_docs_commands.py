"""Every shell command in README.md and docs/*.md is checked, as the table CHECKS says.

A command is a line of a fenced ```bash block (also sh/shell/console), backslash continuations
joined, comments dropped. Leading `VAR=value` assignments are set aside (only known variables
are allowed; the test's own environment provides their values) and `.venv/bin/` is dropped from
the program. A command chained with `&&` is checked part by part. Each part is matched to the
longest key of CHECKS that is a prefix of it, token by token; a part no key covers fails
`test_doc_command` with its text and place, so the docs cannot gain an unchecked command, and a
key no command uses fails `test_every_check_is_used`, so the table stays reviewed.

How a part is checked (the reason is in each entry):

- Run: run as written, in a fresh temporary folder (arguments naming files of the repository are
  made absolute; output flags such as `--out` never are), offline (`HF_HUB_OFFLINE=1`,
  `HF_DATASETS_OFFLINE=1`), with `HYBRIDAL_DATA_DIR` from the environment; exit status 0.
- Validate: `hybridal run ...` as `hybridal validate ...` (same config and `--set`s, no `--out`):
  the config and its data are checked, nothing trains.
- Help: `--help` appended to the command as written: the program imports and parses the options
  before it, and nothing runs (cluster, hub, GPU and hours-long commands).
- DryRun: `sweeps/grid.py` with `--dry-run --no-estimate` appended: the whole grid is expanded
  and every trial's config validated; no Ray, no training.
- Inner: the command after ` -- ` (what `ray job submit` runs on the cluster) is checked as its
  own command; the submission itself needs a cluster.
- Parse: nothing runs; a function checks what the command names (a config file parses, a pinned
  version satisfies pyproject.toml, an extra exists). For set-up commands (venv, pip) and cluster
  tools (`ray up`, `kubectl apply`), which need a network, a cloud account or minutes.
- External: a third-party or cloud CLI that acts on an account, a credential or a server (aws,
  gcloud, kubectl get, tensorboard); its text is parsed (shell quoting) and nothing else.

The Python commands (Run, Validate, Help, DryRun) run in **one** Python process, each as
`python` would run it (`runpy`, with its own argv, working folder and captured output): one
interpreter and one torch import instead of thirty keeps the file within about a minute on two
cores. That process has a timeout; each command's exit status, output and time are reported.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, Optional

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_LANGUAGES = ("bash", "sh", "shell", "console")
# Variables a documented command may set in front of itself; the test's environment gives the values.
KNOWN_VARIABLES = ("HYBRIDAL_DATA_DIR", "HYBRIDAL_CACHE_DIR", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
# Variables an `export` line may set (the cluster walk-through's Ray client settings, and ours).
EXPORTABLE = KNOWN_VARIABLES + ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_TOKEN")
# Flags whose value is an output location: never made absolute, so a run writes into its temp folder.
OUTPUT_FLAGS = ("--out", "--storage-path", "--raw-dir")
BATCH_TIMEOUT_S = 300


# ---- the documented commands ----------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One `&&`-separated part of a documented command line."""

    where: str  # "docs/sweeps.md:12"
    line: str  # the whole command line, as documented (continuations joined)
    tokens: tuple[str, ...]  # this part, shell-split, assignments and `.venv/bin/` removed
    variables: tuple[str, ...]  # the VAR=value assignments in front of it

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


def shell_blocks(path: Path) -> list[tuple[int, str]]:
    """(line number, line) of every line inside a fenced shell block of `path`, dedented per block."""
    lines = path.read_text().splitlines()
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        opening = re.match(r"^(\s*)```\s*(\w*)\s*$", lines[i])
        i += 1
        if not opening or not opening.group(2):
            continue
        body = []
        while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
            body.append((i + 1, lines[i]))
            i += 1
        i += 1
        if opening.group(2) in SHELL_LANGUAGES:
            out.extend(body)
    return out


def command_lines(path: Path) -> list[tuple[int, str]]:
    """(first line number, command) for each command of `path`'s shell blocks."""
    out: list[tuple[int, str]] = []
    pending, first = "", 0
    for number, raw in shell_blocks(path):
        text = raw.strip()
        if not pending and (not text or text.startswith("#")):
            continue
        first = first if pending else number
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        out.append((first, pending + text))
        pending = ""
    return out


def split_command(where: str, line: str) -> list[Command]:
    tokens = shlex.split(line, comments=True)
    if tokens and tokens[-1] == "&":  # a background job: the same command
        tokens = tokens[:-1]
    parts, current = [], []
    for token in tokens + ["&&"]:
        if token != "&&":
            current.append(token)
            continue
        variables = []
        while current and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", current[0]):
            variables.append(current.pop(0))
        if current and current[0].startswith(".venv/bin/"):
            current[0] = current[0][len(".venv/bin/") :]
        parts.append(Command(where, line, tuple(current), tuple(variables)))
        current = []
    return parts


def documented_commands() -> list[Command]:
    out = []
    for path in DOCS:
        for number, line in command_lines(path):
            out.extend(split_command(f"{path.relative_to(REPO)}:{number}", line))
    return out


# ---- how each is checked --------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    reason: str
    kind: ClassVar[str] = ""

    @property
    def python(self) -> bool:
        """Checked by running Python (in the one process of `python_results`)."""
        return self.kind in ("run", "validate", "help", "dry-run")


@dataclass(frozen=True)
class Run(Check):
    expect: Optional[Callable[[str], None]] = None  # checks the command's stdout
    kind: ClassVar[str] = "run"


@dataclass(frozen=True)
class Validate(Check):
    kind: ClassVar[str] = "validate"


@dataclass(frozen=True)
class Help(Check):
    kind: ClassVar[str] = "help"


@dataclass(frozen=True)
class DryRun(Check):
    kind: ClassVar[str] = "dry-run"


@dataclass(frozen=True)
class Inner(Check):
    kind: ClassVar[str] = "inner"


def _nothing(cmd: "Command") -> None:
    return None


@dataclass(frozen=True)
class Parse(Check):
    check: Callable[["Command"], None] = _nothing  # raises AssertionError when what the command names is wrong
    kind: ClassVar[str] = "parse"


@dataclass(frozen=True)
class External(Check):
    kind: ClassVar[str] = "external"


def _pyproject() -> dict:
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # pragma: no cover - Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def check_pip_install(cmd: Command) -> None:
    """Extras exist in pyproject.toml; a pinned torch satisfies its range; a pinned Ray is the clusters' Ray."""
    from packaging.requirements import Requirement

    project = _pyproject()["project"]
    extras = project.get("optional-dependencies", {})
    for token in cmd.tokens[2:]:
        if token.startswith("-"):
            continue
        if token.startswith(".["):
            for extra in token[2:-1].split(","):
                assert extra in extras, f"{cmd.where}: extra [{extra}] is not in pyproject.toml ({sorted(extras)})"
            continue
        req = Requirement(token)
        pinned = [s.version for s in req.specifier if s.operator == "=="]
        if req.name == "torch" and pinned:
            ours = next(Requirement(d) for d in project["dependencies"] if Requirement(d).name == "torch")
            assert ours.specifier.contains(pinned[0]), f"{cmd.where}: torch=={pinned[0]} is outside pyproject's {ours}"
        if req.name == "ray" and pinned:
            image = (REPO / "cluster" / "aws.yaml").read_text()
            assert f"rayproject/ray:{pinned[0]}-" in image, f"{cmd.where}: ray=={pinned[0]} is not the clusters' image"


def check_pytest(cmd: Command) -> None:
    """The suite is where the command looks, and the [test] extra installs pytest."""
    assert _pyproject()["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"] and (REPO / "tests").is_dir()
    assert any(d.startswith("pytest") for d in _pyproject()["project"]["optional-dependencies"]["test"])


def check_static_check(cmd: Command) -> None:
    """A static check of the test command: its tool is pinned in the [lint] extra (which [test] installs),
    configured in pyproject.toml, and run by the pre-commit hooks too."""
    program = cmd.tokens[0]
    package = {"ruff": "ruff", "mypy": "mypy", "lint-imports": "import-linter"}[program]
    project = _pyproject()
    assert any(d.startswith(f"{package}==") for d in project["project"]["optional-dependencies"]["lint"]), package
    assert "hybridal[lint]" in project["project"]["optional-dependencies"]["test"]
    section = {"ruff": "ruff", "mypy": "mypy", "lint-imports": "importlinter"}[program]
    assert section in project["tool"], f"pyproject.toml has no [tool.{section}]"
    hooks = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    entries = [h["entry"] for repo in hooks["repos"] for h in repo["hooks"]]
    command = " ".join(token for token in cmd.tokens if token != ".")  # pre-commit passes the files itself
    assert command in entries, f"{cmd.where}: pre-commit runs {entries}, not {command!r}"


def check_exports(cmd: Command) -> None:
    for token in cmd.tokens[1:]:
        name = token.split("=", 1)[0]
        assert "=" in token and name in EXPORTABLE, f"{cmd.where}: export {token!r}: not one of {EXPORTABLE}"


def _yaml_files(cmd: Command) -> list[Path]:
    files = [REPO / t for t in cmd.tokens if t.endswith((".yaml", ".yml"))]
    assert files, f"{cmd.where}: names no YAML file"
    for path in files:
        assert path.is_file(), f"{cmd.where}: {path.relative_to(REPO)} does not exist"
    return files


def check_cluster_yaml(cmd: Command) -> None:
    """A Ray cluster launcher config (tests/unit/test_cluster_configs.py validates it against Ray's schema)."""
    for path in _yaml_files(cmd):
        config = yaml.safe_load(path.read_text())
        assert isinstance(config, dict) and {"cluster_name", "provider"} <= set(config), f"{path}: not a cluster config"


def check_kuberay_yaml(cmd: Command) -> None:
    for path in _yaml_files(cmd):
        kinds = [doc.get("kind") for doc in yaml.safe_load_all(path.read_text()) if isinstance(doc, dict)]
        assert "RayJob" in kinds, f"{path}: holds no RayJob ({kinds})"


def findings_table_everywhere(stdout: str) -> None:
    """The generated headline table is in the README (tests/unit/test_study_results.py pins that) and in
    docs/findings.md."""
    assert stdout.strip().startswith("| dataset |"), stdout[:300]
    for page in ("README.md", "docs/findings.md"):
        assert stdout in (REPO / page).read_text(), f"{page}: its findings table is not the generated one; paste it"


def prereg_findings_in_the_findings_page(stdout: str) -> None:
    """The second edition's generated findings table (from the committed findings.csv) is in docs/findings.md."""
    assert stdout.strip().startswith("| dataset | kind | question |"), stdout[:300]
    assert stdout in (REPO / "docs" / "findings.md").read_text(), (
        "docs/findings.md: its study2 table is not the generated one"
    )


def performance_table_is_the_committed_runs(stdout: str) -> None:
    """docs/performance.md quotes the speed figures' median [min, max] as benchmarks.repeats prints
    them from the three committed runs."""
    page = (REPO / "docs" / "performance.md").read_text()
    rows = [line for line in stdout.splitlines() if line.startswith("| whole run") or "vs fp32" in line]
    assert len(rows) == 6, stdout[:300]
    for row in rows:
        median, low, high = re.search(r"\| ([\d.]+) \[([\d.]+), ([\d.]+)\] \|", row).groups()
        assert median in page and f"[{low}, {high}]" in page, f"docs/performance.md lacks {row}"


CLOUD = "acts on a cloud account (network, credentials): never run by a test"

CHECKS: dict[str, Check] = {
    # ---- set-up (README's two commands, docs/clusters.md) ----
    "python3 -m venv": Parse("creates the virtual environment (stdlib venv): nothing of ours to check"),
    "pip install": Parse(
        "installs packages (network, minutes): the extras and pinned versions are checked", check_pip_install
    ),
    "python -m pytest": Parse("the test suite itself: running it from inside it would recurse", check_pytest),
    "ruff check": Parse(
        "CI's lint step runs it on the whole checkout; here: pinned, configured, in pre-commit", check_static_check
    ),
    "ruff format --check": Parse("CI's format step; here: pinned, configured, in pre-commit", check_static_check),
    "mypy": Parse(
        "CI's type check of hybridal/ (a minute); here: pinned, configured, in pre-commit", check_static_check
    ),
    "lint-imports": Parse("CI's import contracts; here: pinned, configured, in pre-commit", check_static_check),
    # ---- one run (docs/configuration.md) ----
    "hybridal --help": Run("offline, instant"),
    "hybridal keys": Run("offline, instant"),
    "hybridal validate": Run("loads the config, the data and the model's config; trains nothing"),
    "hybridal run": Validate("trains for minutes: validating the same config and --set overrides checks what can fail"),
    # ---- sweeps (README, docs/sweeps.md, docs/clusters.md) ----
    "python sweeps/grid.py --resume": Help("a bare --resume has no grid to list (--dry-run needs --preset/--config)"),
    "python sweeps/grid.py": DryRun("a sweep takes minutes to days and may need Ray, GPUs or a bucket"),
    "ray job submit": Inner("needs a cluster: the sweep it submits is checked instead"),
    "ray job logs": External("follows a job on a cluster"),
    "ray up": Parse("starts cloud machines: the cluster config must parse", check_cluster_yaml),
    "ray down": Parse("stops cloud machines: the cluster config must parse", check_cluster_yaml),
    "ray dashboard": Parse("forwards a cluster's dashboard: the cluster config must parse", check_cluster_yaml),
    "ray get-auth-token": External("creates or prints the user's Ray auth token: a credential"),
    "mkdir": External("creates the folder for the user's Ray auth token"),
    "chmod": External("protects the user's Ray auth token"),
    "export": Parse("sets the Ray client's variables: only known names", check_exports),
    "tensorboard": External("a server that runs until stopped"),
    "aws": External(CLOUD),
    "gcloud": External(CLOUD),
    "kubectl apply -f": Parse(
        "submits to a Kubernetes cluster: the manifest must parse and hold a RayJob", check_kuberay_yaml
    ),
    "kubectl get": External(CLOUD),
    "kubectl logs": External(CLOUD),
    "kubectl port-forward": External(CLOUD),
    # ---- analysis (docs/analysis.md) ----
    "python -m analysis.report docs/results/demo_new_only": Run("three committed runs: seconds, offline"),
    "python -m analysis.report docs/results/study2 --out": Help(
        "tests/unit/test_study2_protocol.py runs exactly this and compares the tables and report.md with the committed"
    ),
    "python -m analysis.report docs/results/study --out": Help(
        "tests/unit/test_study_results.py runs exactly this and compares every table with the committed one"
    ),
    "python -m analysis.report": Help("its inputs are sweeps that are not in the repository (ray_results/, s3://)"),
    "python -m analysis.presentation.readme_findings docs/results/study": Run(
        "reads the committed headline.csv; its table must be the README's and docs/findings.md's",
        expect=findings_table_everywhere,
    ),
    "python -m analysis.presentation.readme_findings docs/results/study2": Run(
        "reads the committed findings.csv and protocol.json; its table must be docs/findings.md's",
        expect=prereg_findings_in_the_findings_page,
    ),
    # ---- benchmarks (docs/performance.md, docs/f1-parity.md) ----
    "python -m benchmarks.run": Help("about 30 minutes of CPU"),
    "python -m benchmarks.sampler_bench": Help("selection on a 100,000-row pool: minutes"),
    "python -m benchmarks.sweep_overhead": Help("starts Ray and runs sweeps"),
    "python -m benchmarks.shared_prefix": Help("runs two sweeps: many minutes"),
    "python -m benchmarks.f1_parity": Help("whole AL runs over seeds: hours of CPU"),
    "python -m benchmarks.repeats": Run(
        "three committed JSON files: seconds", expect=performance_table_is_the_committed_runs
    ),
}


def check_for(cmd: Command) -> Optional[tuple[str, Check]]:
    """The longest key of CHECKS that is a prefix of `cmd`, token by token."""
    matches = []
    for key, check in CHECKS.items():
        words = tuple(key.split())
        if cmd.tokens[: len(words)] == words:
            matches.append((len(words), key, check))
    if not matches:
        return None
    _, key, check = max(matches)
    return key, check


def inner_command(cmd: Command) -> Command:
    assert "--" in cmd.tokens, f"{cmd.where}: {cmd.text!r} runs no command after ' -- '"
    return split_command(cmd.where, shlex.join(cmd.tokens[cmd.tokens.index("--") + 1 :]))[0]


# ---- the Python commands, in one process ----------------------------------------------------

RUNNER = textwrap.dedent("""
    import contextlib, io, json, os, runpy, sys, time, traceback
    jobs = json.load(open(sys.argv[1]))
    results = open(sys.argv[2], "a")
    path = list(sys.path)
    for job in jobs:
        os.chdir(job["cwd"])
        argv, out, err, code = job["argv"], io.StringIO(), io.StringIO(), 0
        sys.path[:] = path
        started = time.perf_counter()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                if argv[0] == "-m":
                    sys.argv = [argv[1], *argv[2:]]
                    sys.path.insert(0, job["cwd"])                  # as `python -m` does
                    runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
                else:
                    sys.argv = list(argv)
                    sys.path.insert(0, os.path.dirname(argv[0]))   # as `python script.py` does
                    runpy.run_path(argv[0], run_name="__main__")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if not isinstance(exc.code, (int, type(None))):
                err.write(str(exc.code))
        except BaseException:
            code = 1
            err.write(traceback.format_exc())
        results.write(json.dumps({"id": job["id"], "code": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
                                  "seconds": round(time.perf_counter() - started, 2)}) + "\\n")
        results.flush()
""")


def python_argv(cmd: Command, check: Check) -> list[str]:
    """What follows `python` for this command, as the check runs it."""
    tokens = list(cmd.tokens)
    if check.kind == "validate":  # hybridal run CONFIG [--set K=V] [--out DIR] [--quiet]
        assert tokens[:2] == ["hybridal", "run"], cmd.text
        kept, skip = ["hybridal", "validate"], False
        for token in tokens[2:]:
            if skip or token == "--quiet":
                skip = False
                continue
            if token == "--out":
                skip = True
                continue
            kept.append(token)
        tokens = kept
    elif check.kind == "help":
        tokens.append("--help")
    elif check.kind == "dry-run":
        tokens += [flag for flag in ("--dry-run", "--no-estimate") if flag not in tokens]
    program, args = tokens[0], tokens[1:]
    assert program in ("python", "hybridal"), f"{cmd.where}: {program!r} is not a Python command"
    if program == "hybridal":
        head, args = ["-m", "hybridal"], args
    elif args[:1] == ["-m"]:
        head, args = args[:2], args[2:]
    else:
        head, args = [str(REPO / args[0])], args[1:]
    out, previous = [], ""
    for token in args:
        if previous in OUTPUT_FLAGS:
            if check.kind == "run":  # relative: inside the command's temp folder
                assert not Path(token).is_absolute() and ".." not in Path(token).parts, (
                    f"{cmd.where}: a command the test runs must write under its working folder, not to {token!r}"
                )
        elif not token.startswith("-") and (REPO / token).exists():
            token = str(REPO / token)
        out.append(token)
        previous = token if token.startswith("-") else ""
    return head + out


@pytest.fixture(scope="session")
def python_results(tmp_path_factory) -> dict[str, dict]:
    """Every Python command of the docs, run once, in one process: {where + text: result}."""
    base = tmp_path_factory.mktemp("doc-commands")
    jobs = []
    for number, cmd in enumerate(_python_commands()):
        found = check_for(cmd)
        assert found is not None  # _python_commands keeps covered commands only
        cwd = base / f"c{number:02d}"
        cwd.mkdir()
        jobs.append({"id": _id(cmd), "cwd": str(cwd), "argv": python_argv(cmd, found[1])})
    (base / "jobs.json").write_text(json.dumps(jobs))
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "MPLBACKEND": "Agg",
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "TOKENIZERS_PARALLELISM": "false",
        "HYBRIDAL_CACHE_DIR": str(tmp_path_factory.getbasetemp() / "hybridal-cache"),
        "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    results_file = base / "results.jsonl"
    try:
        subprocess.run(
            [sys.executable, "-c", RUNNER, str(base / "jobs.json"), str(results_file)],
            cwd=base,
            env=env,
            timeout=BATCH_TIMEOUT_S,
            capture_output=True,
            text=True,
        )
    except subprocess.TimeoutExpired:
        pass  # the commands that finished have their results; the rest are reported as not finished
    lines = results_file.read_text().splitlines() if results_file.is_file() else []
    return {r["id"]: r for r in map(json.loads, lines)}


def _id(cmd: Command) -> str:
    return f"{cmd.where} {cmd.text}"


def _resolved(cmd: Command) -> tuple[Command, Optional[tuple[str, Check]]]:
    """The command a check finally runs (an Inner check's inner command) and its check."""
    found = check_for(cmd)
    while found is not None and found[1].kind == "inner":
        cmd = inner_command(cmd)
        found = check_for(cmd)
    return cmd, found


def _python_commands() -> list[Command]:
    out = []
    for cmd in COMMANDS:
        resolved, found = _resolved(cmd)
        if found is not None and found[1].python:
            out.append(resolved)
    return out


COMMANDS = documented_commands()


# ---- the tests ------------------------------------------------------------------------------


def test_the_docs_hold_commands():
    assert len(COMMANDS) > 20 and any(c.where.startswith("README.md") for c in COMMANDS)


@pytest.mark.parametrize("cmd", COMMANDS, ids=[_id(c)[:120] for c in COMMANDS])
def test_doc_command(cmd: Command, python_results: dict[str, dict]):
    for assignment in cmd.variables:
        name = assignment.split("=", 1)[0]
        assert name in KNOWN_VARIABLES, f"{cmd.where}: {name} is not one of {KNOWN_VARIABLES} ({cmd.line})"
    resolved, found = _resolved(cmd)
    if found is None:
        pytest.fail(
            f"{cmd.where}: no entry of CHECKS in tests/test_docs_commands.py covers the documented command "
            f"{resolved.text!r} (in {cmd.line!r}); add one that says how it is checked."
        )
    key, check = found
    if isinstance(check, Parse):
        check.check(resolved)
        return
    if isinstance(check, External):
        return
    result = python_results.get(_id(resolved))
    if result is None:
        pytest.fail(
            f"{cmd.where}: {resolved.text!r} did not finish: the batch of doc commands ran past "
            f"{BATCH_TIMEOUT_S} s or its process died."
        )
    assert result["code"] == 0, (
        f"{cmd.where}: {resolved.text!r} ({check.kind}, key {key!r}) exited {result['code']} "
        f"after {result['seconds']} s:\n{result['stderr'][-3000:]}{result['stdout'][-1000:]}"
    )
    if isinstance(check, Run) and check.expect is not None:
        check.expect(result["stdout"])


def test_every_check_is_used():
    used = set()
    for cmd in COMMANDS:
        for found in (check_for(cmd), _resolved(cmd)[1]):  # an Inner entry and the one its command meets
            if found is not None:
                used.add(found[0])
    unused = sorted(set(CHECKS) - used)
    assert not unused, f"CHECKS entries that no documented command uses (remove them): {unused}"


def test_relative_links_in_the_docs_resolve():
    broken = []
    for path in DOCS:
        text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            if not (path.parent / target.split("#", 1)[0]).exists():
                broken.append(f"{path.relative_to(REPO)}: {target}")
    assert not broken, "links to files that do not exist:\n" + "\n".join(broken)


def test_the_configuration_page_covers_every_config_key():
    tree = ast.parse((REPO / "hybridal" / "config.py").read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ExperimentConfig")
    keys = [n.target.id for n in cls.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
    page = (REPO / "docs" / "configuration.md").read_text()
    missing = [k for k in keys if f"`{k}`" not in page]
    assert len(keys) > 40 and not missing, f"docs/configuration.md does not describe: {missing}"


def test_the_design_describes_every_record_field():
    tree = ast.parse((REPO / "hybridal" / "records.py").read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "RoundRecord")
    fields = [n.target.id for n in cls.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
    page = (REPO / "docs" / "design.md").read_text()
    missing = [f for f in fields if f"`{f}`" not in page]
    assert len(fields) > 40 and not missing, f"docs/design.md §6 does not describe: {missing}"


def test_the_readme_maps_every_page_of_the_docs():
    readme = (REPO / "README.md").read_text()
    unlinked = [p.name for p in sorted((REPO / "docs").glob("*.md")) if f"](docs/{p.name})" not in readme]
    assert not unlinked and len(readme.splitlines()) <= 200, f"README.md: unlinked docs {unlinked}, or over 200 lines"
