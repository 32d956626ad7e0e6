"""On a real QEMU repository (``MIGBOT_QEMU_REPO``, a bare mirror is fine).

QEMU's reference dumps are read from that repository at test time, never
copied here. ``MIGBOT_QEMU_REV`` picks the revision (default HEAD).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from bot.audit.dump import dump_vmstate
from bot.audit.dumpreport import issues_to_report
from bot.audit.dumptree import machine_filter
from bot.audit.index import TreeIndex
from bot.audit.prune import prune
from bot.audit.walk import TreeScan, candidate_paths, scan_tree
from bot.compare.dumps import compare_dumps, upstream_lines
from bot.findings import Severity
from bot.scanner.scan import scan
from bot.scanner.treeinfo import macro_table
from bot.sources.gitrepo import GitRepo

pytestmark = pytest.mark.qemu

REFERENCE = "tests/data/vmstate-static-checker"


@pytest.fixture(scope="module")
def qemu() -> GitRepo:
    path = os.environ.get("MIGBOT_QEMU_REPO")
    if not path:
        pytest.skip("MIGBOT_QEMU_REPO is not set")
    return GitRepo(Path(path))


@pytest.fixture(scope="module")
def rev() -> str:
    return os.environ.get("MIGBOT_QEMU_REV", "HEAD")


def _json(qemu: GitRepo, rev: str, path: str) -> dict[str, Any]:
    text = qemu.read_path(qemu.commit(rev).tree, path)
    if text is None:
        pytest.skip(f"{path} is not in {rev}")
    data: dict[str, Any] = json.loads(text)
    return data


def test_dump1_to_dump2_reports_what_the_upstream_checker_does(qemu: GitRepo, rev: str) -> None:
    dump1 = _json(qemu, rev, f"{REFERENCE}/dump1.json")
    dump2 = _json(qemu, rev, f"{REFERENCE}/dump2.json")
    test = qemu.read_path(qemu.commit(rev).tree, "tests/functional/x86_64/test_bad_vmstate.py")
    if test is None:
        pytest.skip("the upstream test of the checker is not in this revision")
    expected = re.search(r"EXPECTED_OUTPUT\s*=\s*'''(.*?)'''", test, re.S)
    assert expected is not None
    issues = compare_dumps(dump1, dump2)
    assert upstream_lines(issues) == expected.group(1).splitlines()
    # Upstream exits with the number of problems (13): the warning is not one.
    counted = [i for i in issues if i.upstream and i.kind != "machine-mismatch"]
    assert len(counted) == 13
    report = issues_to_report(issues, src_name="dump1.json", dst_name="dump2.json")
    assert {f.vmsd for f in report.findings} == {i.section for i in counted}
    assert all(f.severity is Severity.ERROR for f in report.findings)


@pytest.fixture(scope="module")
def scanned(qemu: GitRepo, rev: str) -> TreeScan:
    return scan_tree(qemu, rev)


@pytest.mark.parametrize(
    ("arch", "machine"),
    [
        ("x86_64", "pc-q35-7.2"),
        ("aarch64", "virt-7.2"),
        ("ppc64", "pseries-7.2"),
        ("s390x", "s390-ccw-virtio-7.2"),
    ],
)
def test_reference_dumps_of_7_2_load_into_a_dump_from_source(
    qemu: GitRepo, rev: str, scanned: TreeScan, arch: str, machine: str
) -> None:
    """What tests/functional/generic/test_vmstate.py checks with a built QEMU,
    from source: no error, only subsections added since (notices)."""
    reference = _json(qemu, rev, f"{REFERENCE}/{arch}/{machine}.json")
    index = TreeIndex.build(scanned.models, scanned.strings)
    chosen = machine_filter(qemu, scanned.tree_id, machine, None, arch)
    ours = dump_vmstate(index, machine=machine, include=chosen.include, target_bits=64).data
    assert set(reference) <= set(ours)
    report = issues_to_report(
        compare_dumps(reference, ours), src_name="reference", dst_name="source"
    )
    loud = [f.message for f in report.findings if f.severity.at_least(Severity.WARNING)]
    assert loud == []


def test_pruning_does_not_change_the_models_of_real_files(qemu: GitRepo, rev: str) -> None:
    commit = qemu.commit(rev)
    tree = qemu.tree(commit.tree)
    table = macro_table(tree)
    for path in candidate_paths(qemu, commit.tree)[::25]:
        text = tree.read(path)
        assert text is not None
        full, pruned = scan(text, path, table), scan(prune(text), path, table)
        assert pruned.vmsds == full.vmsds, path
        assert pruned.registrations == full.registrations, path
        assert pruned.compat_arrays == full.compat_arrays, path
        assert pruned.properties == full.properties, path
        assert pruned.types == full.types, path
