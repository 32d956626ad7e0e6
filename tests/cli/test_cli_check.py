"""``migbot check`` as a user runs it: a subprocess on a real repository.

The repository is the mini QEMU tree of tests/fixtures/qemu-mini with the
commits each test makes.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.report import SUMMARY_MARKER
from bot.report.jsonfmt import load_schema
from tests.fixtures.minirepo import (
    MiniRepo,
    clone,
    commit_change,
    make_template,
)
from tests.harness import MIGBOT

UART = "hw/char/acme_uart.c"
PASSTHROUGH = "hw/vfio/acme_passthrough.c"

ADD_FCR = (
    "        VMSTATE_UINT8(lcr, AcmeUARTState),\n",
    "        VMSTATE_UINT8(lcr, AcmeUARTState),\n        VMSTATE_UINT8(fcr, AcmeUARTState),\n",
)
BUMP_FOR_FCR = (
    "    .version_id = 1,\n",
    "    .version_id = 2,\n",
)
FCR_V2 = (
    "        VMSTATE_UINT32_ARRAY(scratch, AcmeUARTState, 4),\n",
    "        VMSTATE_UINT32_ARRAY(scratch, AcmeUARTState, 4),\n"
    "        VMSTATE_UINT8_V(fcr, AcmeUARTState, 2),\n",
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> MiniRepo:
    return make_template(tmp_path_factory.mktemp("cli-template"))


@pytest.fixture
def repo(template: MiniRepo, tmp_path: Path) -> MiniRepo:
    return clone(template, tmp_path)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "MIGBOT_"))}
    out["MIGBOT_CACHE_DIR"] = str(tmp_path_factory.mktemp("cli-cache"))
    return out


def migbot(
    env: dict[str, str], *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*MIGBOT, "check", *args],
        input=stdin,
        capture_output=True,
        env=env,
        cwd=cwd,
        check=False,
    )
    return subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode("utf-8"),
        proc.stderr.decode("utf-8"),
    )


def edited(repo: MiniRepo, path: str, *pairs: tuple[str, str]) -> str:
    text = repo.read(path)
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def commit(repo: MiniRepo, path: str, *pairs: tuple[str, str]) -> str:
    """Commit the edit; the range that reviews it."""
    base = repo.rev("HEAD")
    head = commit_change(repo, {path: edited(repo, path, *pairs)}, f"edit {path}")
    return f"{base}..{head}"


def as_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(proc.stdout)
    jsonschema.validate(data, load_schema())
    return data


# --- exit codes -----------------------------------------------------------------


def test_error_finding_exits_1(repo: MiniRepo, env: dict[str, str]) -> None:
    proc = migbot(env, "--repo", str(repo.path), commit(repo, UART, ADD_FCR), "--no-color")
    assert proc.returncode == 1, proc.stderr
    assert "MIG001" in proc.stdout
    assert "fcr" in proc.stdout
    assert proc.stderr == ""


@pytest.mark.parametrize(("fail_on", "code"), [("error", 1), ("warning", 1), ("never", 0)])
def test_fail_on_with_an_error(
    repo: MiniRepo, env: dict[str, str], fail_on: str, code: int
) -> None:
    rng = commit(repo, UART, ADD_FCR)
    proc = migbot(env, "--repo", str(repo.path), rng, "--fail-on", fail_on)
    assert proc.returncode == code, proc.stderr
    assert "MIG001" in proc.stdout


@pytest.mark.parametrize(("fail_on", "code"), [("error", 0), ("warning", 1), ("never", 0)])
def test_fail_on_with_a_warning_only(
    repo: MiniRepo, env: dict[str, str], fail_on: str, code: int
) -> None:
    rng = commit(repo, UART, BUMP_FOR_FCR, FCR_V2)
    proc = migbot(
        env, "--repo", str(repo.path), rng, "--tier", "bidirectional", "--fail-on", fail_on
    )
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "MIG008" in proc.stdout


def test_clean_change_exits_0(repo: MiniRepo, env: dict[str, str]) -> None:
    rng = commit(
        repo,
        UART,
        (
            "        VMSTATE_UINT8(lcr, AcmeUARTState),\n",
            "        VMSTATE_UINT8(lcr,  AcmeUARTState),\n",
        ),
    )
    proc = migbot(env, "--repo", str(repo.path), rng, "--fail-on", "warning", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = as_json(proc)
    assert data["findings"] == []
    assert data["summary"]["files_scanned"] == 1


def test_bad_revision_exits_2_with_one_line(repo: MiniRepo, env: dict[str, str]) -> None:
    proc = migbot(env, "--repo", str(repo.path), "no-such-branch..HEAD")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("migbot: ")
    assert "no-such-branch" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_not_a_repository_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    proc = migbot(env, "--repo", str(tmp_path), "HEAD")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((), id="nothing"),
        pytest.param(("HEAD", "--diff", "-"), id="two-inputs"),
        pytest.param(("HEAD",), id="range-without-repo"),
    ],
)
def test_no_or_ambiguous_input_exits_2(
    env: dict[str, str], tmp_path: Path, args: tuple[str, ...]
) -> None:
    proc = migbot(env, *args, stdin=b"", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("migbot: ")
    assert proc.stderr.count("\n") == 1, proc.stderr


@pytest.mark.parametrize("what", ["missing", "directory", "not-a-patch", "empty-stdin"])
def test_unreadable_patch_exits_2(env: dict[str, str], tmp_path: Path, what: str) -> None:
    target = tmp_path / "series.mbox"
    stdin = None
    if what == "directory":
        target.mkdir()
    elif what == "not-a-patch":
        target.write_bytes(b"Subject: lunch?\n\nShall we meet at noon?\n")
    if what == "empty-stdin":
        args: tuple[str, ...] = ("--diff", "-")
        stdin = b""
    else:
        args = ("--patch", str(target))
    proc = migbot(env, *args, stdin=stdin, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith("migbot: ")
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr


# --- formats --------------------------------------------------------------------


def test_json_validates_against_the_schema(repo: MiniRepo, env: dict[str, str]) -> None:
    rng = commit(repo, UART, ADD_FCR)
    data = as_json(migbot(env, "--repo", str(repo.path), rng, "--format", "json"))
    [finding] = data["findings"]
    assert finding["rule_id"] == "MIG001"
    assert finding["path"] == UART
    assert finding["field"] == "fcr"
    assert finding["vmsd"] == "acme-uart"
    assert finding["doc_url"].startswith("https://")
    assert data["summary"]["error"] == 1
    assert data["change"]["head"] == repo.rev("HEAD")


def test_markdown_has_the_summary_marker(repo: MiniRepo, env: dict[str, str]) -> None:
    rng = commit(repo, UART, ADD_FCR)
    proc = migbot(env, "--repo", str(repo.path), rng, "--format", "markdown")
    assert proc.returncode == 1
    assert SUMMARY_MARKER in proc.stdout
    assert proc.stdout.startswith(SUMMARY_MARKER)
    assert "MIG001" in proc.stdout
    assert "1 error" in proc.stdout


# --- tiers and labels -------------------------------------------------------------

MIN_RAISED = (
    (
        "    .version_id = 1,\n    .minimum_version_id = 1,\n",
        "    .version_id = 2,\n    .minimum_version_id = 2,\n",
    ),
    FCR_V2,
)


def _severities(data: dict[str, Any]) -> dict[str, str]:
    return {f["rule_id"]: f["severity"] for f in data["findings"]}


def test_tier_option_changes_severity_and_exit_code(repo: MiniRepo, env: dict[str, str]) -> None:
    rng = commit(repo, UART, *MIN_RAISED)
    strict = migbot(
        env, "--repo", str(repo.path), rng, "--tier", "bidirectional", "--format", "json"
    )
    lenient = migbot(
        env, "--repo", str(repo.path), rng, "--tier", "best-effort", "--format", "json"
    )
    assert strict.returncode == 1
    assert lenient.returncode == 0
    # One finding about the clean refusal (the bump it needs is part of it).
    assert _severities(as_json(strict)) == {"MIG009": "error"}
    assert _severities(as_json(lenient)) == {"MIG009": "notice"}
    assert all(f["tier"] == "best-effort" for f in as_json(lenient)["findings"])


def test_ack_label_lowers_errors_but_keeps_them_visible(
    repo: MiniRepo, env: dict[str, str]
) -> None:
    rng = commit(repo, UART, ADD_FCR)
    proc = migbot(
        env, "--repo", str(repo.path), rng, "--label", "migration::ack", "--format", "json"
    )
    assert proc.returncode == 0, proc.stdout
    data = as_json(proc)
    [finding] = data["findings"]
    assert finding["rule_id"] == "MIG001"
    assert finding["severity"] == "notice"
    assert finding["base_severity"] == "error"
    assert finding["override"]["label"] == "migration::ack"
    assert [o["label"] for o in data["overrides"]] == ["migration::ack"]
    text = migbot(env, "--repo", str(repo.path), rng, "--label", "migration::ack", "--no-color")
    assert text.returncode == 0
    assert "MIG001" in text.stdout
    assert "migration::ack" in text.stdout


def test_forward_label_changes_the_tier_and_its_reason(repo: MiniRepo, env: dict[str, str]) -> None:
    rng = commit(repo, UART, BUMP_FOR_FCR, FCR_V2)
    plain = as_json(
        migbot(env, "--repo", str(repo.path), rng, "--tier", "bidirectional", "--format", "json")
    )
    labelled_proc = migbot(
        env, "--repo", str(repo.path), rng, "--label", "migration::forward", "--format", "json"
    )
    assert labelled_proc.returncode == 0
    labelled = as_json(labelled_proc)
    [before] = plain["findings"]
    [after] = labelled["findings"]
    assert (before["rule_id"], before["severity"]) == ("MIG008", "warning")
    assert (after["rule_id"], after["severity"], after["tier"]) == ("MIG008", "info", "forward")
    assert "migration::forward" in after["tier_reason"]
    assert after["tier_reason"] != before["tier_reason"]
    assert labelled["tiers"][0]["tier"] == "forward"
    assert labelled["tiers"][0]["source"] == "label"


# --- stability and odd input --------------------------------------------------------


def test_fingerprints_survive_moved_lines(
    template: MiniRepo, env: dict[str, str], tmp_path: Path
) -> None:
    first = clone(template, tmp_path / "a")
    second = clone(template, tmp_path / "b")
    rng_a = commit(first, UART, ADD_FCR)
    shifted = (
        "static const VMStateDescription vmstate_acme_uart = {\n",
        "/*\n * The 16550 has a FIFO control register too; its state is\n"
        " * migrated with the other line registers.\n */\n\n"
        "static const VMStateDescription vmstate_acme_uart = {\n",
    )
    rng_b = commit(second, UART, shifted, ADD_FCR)
    a = as_json(migbot(env, "--repo", str(first.path), rng_a, "--format", "json"))["findings"]
    b = as_json(migbot(env, "--repo", str(second.path), rng_b, "--format", "json"))["findings"]
    assert [f["rule_id"] for f in a] == [f["rule_id"] for f in b] == ["MIG001"]
    assert a[0]["line"] != b[0]["line"]
    assert a[0]["fingerprint"] == b[0]["fingerprint"]


LATIN1_DEVICE = (
    b"/*\n * ACME passthrough\n *\n * Copyright (c) 2009 J\xf6rg M\xfcller\n */\n\n"
    b'#include "qemu/osdep.h"\n#include "migration/vmstate.h"\n\n'
    b"static const VMStateDescription vmstate_acme_passthrough = {\n"
    b'    .name = "acme-passthrough",\n'
    b"    .version_id = 1,\n"
    b"    .minimum_version_id = 1,\n"
    b"    .fields = (const VMStateField[]) {\n"
    b"        VMSTATE_UINT32(bar_mask, AcmePassthroughState), /* \xb5s */\n"
    b"        VMSTATE_UINT32(bar_size, AcmePassthroughState),\n"
    b"        VMSTATE_UINT32(rom_size, AcmePassthroughState),\n"
    b"        VMSTATE_END_OF_LIST()\n"
    b"    }\n"
    b"};\n"
)


def test_non_utf8_source_is_still_judged(repo: MiniRepo, env: dict[str, str]) -> None:
    commit_change(repo, {PASSTHROUGH: LATIN1_DEVICE}, "add a latin-1 file")
    base = repo.rev("HEAD")
    after = LATIN1_DEVICE.replace(
        b"        VMSTATE_END_OF_LIST()\n",
        b"        VMSTATE_UINT32(irq_line, AcmePassthroughState),\n        VMSTATE_END_OF_LIST()\n",
    )
    head = commit_change(repo, {PASSTHROUGH: after}, "acme-passthrough: irq line")
    for fmt in ("json", "text", "markdown"):
        proc = migbot(env, "--repo", str(repo.path), f"{base}..{head}", "--format", fmt)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        assert "MIG001" in proc.stdout
    data = as_json(migbot(env, "--repo", str(repo.path), f"{base}..{head}", "--format", "json"))
    assert [f["field"] for f in data["findings"]] == ["irq_line"]
    patch_file = repo.path.parent / "latin1.patch"
    patch_file.write_bytes(repo.format_patch())
    proc = migbot(env, "--patch", str(patch_file), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert [f["rule_id"] for f in as_json(proc)["findings"]] == ["MIG001"]


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def test_binary_files_do_not_crash(repo: MiniRepo, env: dict[str, str]) -> None:
    commit_change(repo, {"docs/acme.png": PNG, "pc-bios/acme.rom": b"\x00\x01" * 64}, "blobs")
    base = repo.rev("HEAD")
    head = commit_change(
        repo,
        {
            "docs/acme.png": PNG + b"\x00\xff",
            "pc-bios/acme.rom": None,
            "hw/char/blob.c": b"\x00\x01\x02VMStateDescription\x00",
            UART: edited(repo, UART, ADD_FCR),
        },
        "blobs and a field",
    )
    proc = migbot(env, "--repo", str(repo.path), f"{base}..{head}", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert [f["rule_id"] for f in as_json(proc)["findings"]] == ["MIG001"]
    mail = repo.format_patch("HEAD", "--binary")
    for args in (("--repo", str(repo.path), "--base", base), ()):
        proc = migbot(env, "--diff", "-", *args, "--format", "json", stdin=mail)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        assert [f["rule_id"] for f in as_json(proc)["findings"]] == ["MIG001"]


def test_patch_that_does_not_apply_exits_2_naming_the_hunk(
    repo: MiniRepo, env: dict[str, str], tmp_path: Path
) -> None:
    """A hunk whose context is not in the base is bad input, not a review."""
    text = repo.read(UART)
    anchor = "        VMSTATE_UINT8(lcr, AcmeUARTState),\n"
    start = text[: text.index(anchor)].count("\n") + 1
    patch = tmp_path / "stale.patch"
    patch.write_text(
        f"--- a/{UART}\n+++ b/{UART}\n"
        f"@@ -{start},2 +{start},3 @@\n"
        "         VMSTATE_UINT8(not_there, AcmeUARTState),\n"
        "+        VMSTATE_UINT8(fcr, AcmeUARTState),\n"
        "         VMSTATE_UINT8(also_not_there, AcmeUARTState),\n"
    )
    proc = migbot(env, "--repo", str(repo.path), "--patch", str(patch))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert f"{UART}: hunk #1 (@@ -{start},2 +{start},3 @@) does not apply" in proc.stderr
    assert "Traceback" not in proc.stderr
