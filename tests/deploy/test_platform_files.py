"""The deploy files agree with the code: every command they name exists, and their timeouts leave serve room to
finish replies in flight after SIGTERM."""

from __future__ import annotations

import ast
import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from bot.cli import _parser
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SHUTDOWN_SECONDS = Settings.__dataclass_fields__["shutdown_seconds"].default


def console_scripts() -> set[str]:
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"])


def assert_command_exists(command: str) -> None:
    """`movie-bot <subcommand> ...`: the console script is declared and the CLI parses the arguments."""
    program, *args = shlex.split(command)
    assert program in console_scripts(), f"{command!r}: {program} is not a console script of this project"
    try:
        _parser().parse_args(args)
    except SystemExit as exc:  # argparse exits on an unknown subcommand or option
        pytest.fail(f"{command!r} is not a valid movie-bot command (argparse exit {exc.code})")


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_procfile_runs_serve_as_a_worker_not_a_web_process() -> None:
    processes = {name.strip(): command.strip() for name, command in procfile().items()}
    assert processes == {"worker": "movie-bot serve"}
    for command in processes.values():
        assert_command_exists(command)


def test_fly_toml_stops_with_sigterm_and_waits_longer_than_serve_and_always_restarts() -> None:
    fly = tomllib.loads((ROOT / "fly.toml").read_text())
    assert fly["kill_signal"] == "SIGTERM"
    assert fly["kill_timeout"] > SHUTDOWN_SECONDS
    for command in fly["processes"].values():
        assert_command_exists(command)
    policies = {tuple(r.get("processes", [])): r["policy"] for r in fly["restart"]}
    assert set(policies.values()) == {"always"}
    assert set(sum(policies, ())) == set(fly["processes"])
    # A polling worker binds no port: an http_service would have fly's proxy check a port nobody listens on.
    if "http_service" in fly:
        assert "PORT" in fly.get("env", {})
        assert [c["path"] for c in fly["http_service"]["checks"]] == ["/healthz"]


def test_railway_json_restarts_always_checks_healthz_and_drains_longer_than_serve() -> None:
    deploy = json.loads((ROOT / "railway.json").read_text())["deploy"]
    assert_command_exists(deploy["startCommand"])
    assert deploy["restartPolicyType"] == "ALWAYS"
    assert deploy["healthcheckPath"] == "/healthz"  # railway sets PORT, so serve answers it
    assert deploy["drainingSeconds"] > SHUTDOWN_SECONDS


def dockerfile_lines() -> list[str]:
    """The Dockerfile's instructions, each on one line (continuations joined), comments left out."""
    text = re.sub(r"\\\n\s*", "", (ROOT / "Dockerfile").read_text())
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def stage(name: str) -> list[str]:
    """The instructions of one build stage."""
    lines = dockerfile_lines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"FROM \S+ AS {name}$", line))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("FROM ")), len(lines))
    return lines[start:end]


def import_closure(module: str) -> set[str]:
    """Every module of core/ that `module` imports, at the top or inside a function, transitively."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        path = ROOT.joinpath(*name.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        if name in seen or not path.is_file():
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names if alias.name.split(".")[0] == "core"]
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "core":
                todo += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return seen


def test_the_index_stage_copies_exactly_what_ingest_imports() -> None:
    """The index is embedded again only when what ingest runs changes: the stage copies core's modules one by
    one, and the list must be ingest's import closure, no more (a search or ranking change would re-embed) and
    no less (the build would fail)."""
    copied: set[str] = set()
    for line in stage("index"):
        if line.startswith("COPY ") and "--from" not in line:
            *sources, _ = line.split()[1:]
            copied |= {source for source in sources if source.startswith("core")}
    assert all(source.endswith(".py") for source in copied), "whole folders would bring in serving modules"
    needed = {
        "/".join(name.split(".")) + ("/__init__.py" if ROOT.joinpath(*name.split(".")).is_dir() else ".py")
        for name in import_closure("core.ingest")
    }
    assert copied == needed


def test_dockerfile_runs_serve_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.findall(r"^CMD (.+)$", dockerfile, re.M)
    assert len(cmd) == 1
    assert_command_exists(" ".join(json.loads(cmd[0])))
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^STOPSIGNAL SIGTERM$", dockerfile, re.M)


def test_dockerignore_keeps_secrets_history_and_tests_out_of_the_build() -> None:
    rules = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert rules[0] == "*", "an allow-list: anything not named is left out"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    assert not allowed & {".env", ".git", ".venv", "tests", "data", "build"}
    # Everything the Dockerfile copies from the context is allowed in.
    copied = [line.split()[1:-1] for line in dockerfile_lines() if line.startswith("COPY ") and "--from" not in line]
    for source in (s for sources in copied for s in sources):
        assert source.split("/")[0] in allowed, source


def test_locks_pin_every_package_with_hashes() -> None:
    for name in ("serve.txt", "qdrant-client.txt", "ingest.txt"):
        text = (ROOT / "requirements" / name).read_text()
        entries = re.findall(r"^([A-Za-z0-9_.-]+)(\S*) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", text, re.M)
        names = {entry[0] for entry in entries}
        assert entries and all(spec.startswith("==") for _, spec, _ in entries), name
        assert len(names) == len(re.findall(r"^[A-Za-z0-9_.-]+==", text, re.M)), f"{name}: a pin without a hash"
    serve = (ROOT / "requirements" / "serve.txt").read_text()
    assert "torch" not in serve and "sentence-transformers" not in serve
    assert "qdrant-client" not in serve  # an image option (QDRANT_CLIENT=on), from its own lock
    assert "\nqdrant-client==" in (ROOT / "requirements" / "qdrant-client.txt").read_text()
    assert re.search(r"^torch==[\d.]+\+cpu ", (ROOT / "requirements" / "ingest.txt").read_text(), re.M)
