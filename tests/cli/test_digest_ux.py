"""The digest from a mirror: retirements under their own heading; a stale mirror said so."""

from __future__ import annotations

import re

from tests.cli.conftest import Run, run
from tests.fixtures.minirepo import MiniRepo

Q35 = "hw/i386/pc_q35.c"
MACHINE = "hw/core/machine.c"
PC = "hw/i386/pc.c"


def _retire_10_0(repo: MiniRepo) -> None:
    q35 = repo.read(Q35)
    start = q35.index("static void pc_q35_machine_10_0_options")
    end = q35.index("DEFINE_Q35_MACHINE(10, 0);\n") + len("DEFINE_Q35_MACHINE(10, 0);\n")
    (repo.path / Q35).write_text(q35[:start].rstrip("\n") + "\n" + q35[end:])
    machine = repo.read(MACHINE)
    machine = re.sub(
        r"GlobalProperty hw_compat_10_0\[\] = \{.*?hw_compat_10_0\);\n\n", "", machine, flags=re.S
    )
    (repo.path / MACHINE).write_text(machine)
    pc = repo.read(PC)
    pc = re.sub(
        r"GlobalProperty pc_compat_10_0\[\] = \{.*?pc_compat_10_0\);\n\n?", "", pc, flags=re.S
    )
    (repo.path / PC).write_text(pc)
    repo.commit("hw/i386/pc: Remove deprecated pc-q35-10.0 machine")


def _retired_heading(repo: MiniRepo, env: dict[str, str]) -> tuple[Run, list[str]]:
    """The digest of the fixture's weeks, and the items of its retired heading."""
    got = run(
        env,
        "digest",
        "--repo",
        str(repo.path),
        "--since",
        "2026-01-26",
        "--until",
        "2026-02-09",
        "--no-cache",
    )
    assert got.code == 0, got.err
    section = got.out.split("### Retired under the deprecation policy", 1)[1]
    section = section.split("\n### ", 1)[0]
    items = [line.split(" by ")[0] for line in section.splitlines() if line.startswith("- ")]
    return got, items


def test_retired_machine_types_have_their_own_heading(repo: MiniRepo, env: dict[str, str]) -> None:
    _retire_10_0(repo)
    got, retired = _retired_heading(repo, env)
    assert retired == [
        "- machine type pc-q35-10.0 removed",
        "- hw\\_compat\\_10\\_0\\[\\] removed with the machine types it served",
        "- pc\\_compat\\_10\\_0\\[\\] removed with the machine types it served",
    ]
    assert "warning" not in got.err


def test_a_stale_mirror_is_named(repo: MiniRepo, env: dict[str, str]) -> None:
    got = run(
        env,
        "digest",
        "--repo",
        str(repo.path),
        "--since",
        "2026-03-01",
        "--until",
        "2026-03-08",
        "--no-cache",
    )
    assert got.code == 0, got.err
    assert (
        "migbot: warning: the newest commit on master is from 2026-02-01 12:00 UTC, before the "
        "period asked for (from 2026-03-01 00:00 UTC)" in got.err
    )


NIC = "hw/net/acme_nic.c"
NIC_H = "include/hw/net/acme_nic.h"


def _gate_isr_on_old_machines(repo: MiniRepo) -> None:
    """acme-nic sends a legacy register only for machine types up to 10.0."""
    nic = repo.read(NIC)
    nic = nic.replace(
        "static const VMStateDescription vmstate_acme_nic = {",
        "static bool acme_nic_legacy_isr(void *opaque, int version_id)\n"
        "{\n"
        "    AcmeNICState *s = opaque;\n\n"
        "    return s->send_legacy_isr;\n"
        "}\n\n"
        "static const VMStateDescription vmstate_acme_nic = {",
    )
    nic = nic.replace(
        "        VMSTATE_UINT32(imr, AcmeNICState),\n",
        "        VMSTATE_UINT32(imr, AcmeNICState),\n"
        "        VMSTATE_UINT32_TEST(legacy_isr, AcmeNICState, acme_nic_legacy_isr),\n",
    )
    nic = nic.replace(
        '    DEFINE_PROP_BOOL("mrg-rxbuf", AcmeNICState, mrg_rxbuf, true),\n',
        '    DEFINE_PROP_BOOL("mrg-rxbuf", AcmeNICState, mrg_rxbuf, true),\n'
        '    DEFINE_PROP_BOOL("x-legacy-isr", AcmeNICState, send_legacy_isr, false),\n',
    )
    (repo.path / NIC).write_text(nic)
    header = repo.read(NIC_H).replace(
        "    bool mrg_rxbuf;\n",
        "    bool mrg_rxbuf;\n    bool send_legacy_isr;\n    uint32_t legacy_isr;\n",
    )
    (repo.path / NIC_H).write_text(header)
    machine = repo.read(MACHINE).replace(
        '    { "acme-nic", "x-rx-coalesce", "off" },\n',
        '    { "acme-nic", "x-rx-coalesce", "off" },\n    { "acme-nic", "x-legacy-isr", "on" },\n',
    )
    (repo.path / MACHINE).write_text(machine)
    repo.commit("hw/net/acme_nic: Keep the legacy ISR for 10.0 machine types")
    # ...and a release ships it, so its removal changes what was released.
    (repo.path / "VERSION").write_text("11.0.0\n")
    repo.commit("Update version for v11.0.0 release")
    (repo.path / "VERSION").write_text("11.0.50\n")
    repo.commit("Open 11.1 development tree")


def _drop_legacy_isr(repo: MiniRepo) -> None:
    nic = repo.read(NIC)
    start = nic.index("static bool acme_nic_legacy_isr")
    end = nic.index("static const VMStateDescription vmstate_acme_nic = {")
    nic = nic[:start] + nic[end:]
    nic = "".join(line for line in nic.splitlines(keepends=True) if "legacy_isr" not in line)
    (repo.path / NIC).write_text(nic)
    header = "".join(
        line for line in repo.read(NIC_H).splitlines(keepends=True) if "legacy_isr" not in line
    )
    (repo.path / NIC_H).write_text(header)
    repo.commit("hw/net/acme_nic: Drop the legacy ISR, only 10.0 machine types sent it")


def test_properties_and_fields_retired_with_their_machine_types_are_listed(
    repo: MiniRepo, env: dict[str, str]
) -> None:
    _gate_isr_on_old_machines(repo)
    _retire_10_0(repo)
    _drop_legacy_isr(repo)
    _got, retired = _retired_heading(repo, env)
    assert (
        "- property x-legacy-isr (hw/net/acme\\_nic.c) removed with the machine types that set it"
        in retired
    )
    assert "- field legacy\\_isr of acme-nic removed with the machine types that sent it" in retired
    # The property the setup commit added is not a retirement.
    assert not any("x-rx-coalesce" in line for line in retired)
