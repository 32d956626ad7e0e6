"""The forge adapters through the real python-gitlab and PyGithub, against the fakes."""

from __future__ import annotations

import asyncio

from bot.forges.events import MergeRequestRef
from bot.forges.github.client import GitHubForge
from bot.forges.gitlab.client import GitLabForge
from bot.review.placement import Placement
from bot.review.reconcile import NoteAction, Op, ReviewPlan
from tests.fakes import qemu
from tests.fakes.fake_github import FakeGitHub
from tests.fakes.fake_gitlab import FakeGitLab


def gitlab_forge(fake: FakeGitLab) -> GitLabForge:
    return GitLabForge(fake.base_url, fake.bot.token, retries=3, timeout=10)


async def test_gitlab_change_trees_pagination_and_rights(fake_gitlab: FakeGitLab) -> None:
    fake = fake_gitlab
    fake.per_page_default = 1  # python-gitlab must follow the Link headers
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    alice, carol = fake.user("alice"), fake.user("carol")
    fake.set_access(project, carol, 40)
    mr, _ = fake.open_mr(
        project,
        title="foo",
        author=alice,
        changes={qemu.FOO_C: qemu.TWO_FINDINGS, "hw/misc/new.c": "int x;\n", "README.rst": None},
    )
    fake.add_label(mr, "migration::ack", by=alice)
    fake.remove_label(mr, "migration::ack", by=alice)
    fake.add_label(mr, "migration::ack", by=carol)
    forge = gitlab_forge(fake)
    ref = MergeRequestRef("gitlab", "qemu/qemu", mr.iid)  # by path: URL-encoded project id
    fetched = await asyncio.to_thread(forge.get_change, ref)
    assert fetched.info.head_sha == mr.head_sha
    statuses = {f.path: str(f.status) for f in fetched.change.files}
    assert statuses == {
        "README.rst": "deleted",
        "hw/misc/foo.c": "modified",
        "hw/misc/new.c": "added",
    }
    tree = fetched.change.base_tree
    assert tree is not None
    raw_before = fake.count("GET", r"/raw$")
    text = await asyncio.to_thread(tree.read, "hw/misc/meson.build")
    assert text is not None
    assert "CONFIG_FOO" in text
    assert await asyncio.to_thread(tree.read, "hw/misc/meson.build") == text  # cached
    assert await asyncio.to_thread(tree.read, "no/such/file.h") is None
    assert await asyncio.to_thread(tree.read, qemu.FOO_C) == qemu.BASE_FOO  # known already
    assert fake.count("GET", r"/raw$") - raw_before == 2
    events = await asyncio.to_thread(forge.label_events, ref)
    assert [(e.action, e.user) for e in events] == [
        ("add", "alice"),
        ("remove", "alice"),
        ("add", "carol"),
    ]
    assert await asyncio.to_thread(forge.is_maintainer, ref, "carol")
    assert not await asyncio.to_thread(forge.is_maintainer, ref, "alice")
    assert await asyncio.to_thread(forge.bot_username) == "migbot"


async def test_gitlab_refused_position_becomes_a_note(fake_gitlab: FakeGitLab) -> None:
    fake = fake_gitlab
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    mr, _ = fake.open_mr(
        project, title="t", author=fake.user("a"), changes={qemu.FOO_C: qemu.ONE_FINDING}
    )
    forge = gitlab_forge(fake)
    ref = MergeRequestRef("gitlab", "qemu/qemu", mr.iid, project_id=project.id)
    info = (await asyncio.to_thread(forge.get_change, ref)).info
    body = "<!-- migbot:finding:abc -->\nfinding"
    plan = ReviewPlan(
        head_sha=info.head_sha,
        summary=NoteAction(Op.CREATE, body="<!-- migbot:summary -->\ns"),
        inline=(
            NoteAction(
                Op.CREATE,
                "abc",
                body=body,
                placement=Placement(qemu.FOO_C, qemu.FOO_C, "+", 99, None),
            ),
        ),
    )
    await asyncio.to_thread(forge.publish, ref, info, plan)
    [thread] = fake.threads(mr)
    assert thread.notes[0].position is None
    assert "line 99" in thread.notes[0].body
    notes = await asyncio.to_thread(forge.list_bot_notes, ref)
    assert sorted(n.kind.value for n in notes) == ["finding", "summary"]


async def test_gitlab_upsert_issue(fake_gitlab: FakeGitLab) -> None:
    fake = fake_gitlab
    project = fake.create_project("qemu/qemu", qemu.BASE_TREE)
    forge = gitlab_forge(fake)
    url1 = await asyncio.to_thread(forge.upsert_issue, "qemu/qemu", "Digest", "one", ["digest"])
    url2 = await asyncio.to_thread(forge.upsert_issue, "qemu/qemu", "Digest", "two", ["digest"])
    assert url1 == url2
    assert [(i["title"], i["description"]) for i in project.issues] == [("Digest", "two")]


async def test_github_rate_limits_and_5xx_are_waited_out(fake_github: FakeGitHub) -> None:
    fake = fake_github
    repo = fake.create_repo("qemu/qemu", qemu.BASE_TREE)
    alice = fake.user("alice")
    pr, _ = fake.open_pr(repo, title="t", author=alice, changes={qemu.FOO_C: qemu.ONE_FINDING})
    fake.fail(r"/pulls/\d+/files$", status=502, times=1)
    fake.fail(r"/contents/", status=429, times=1, headers={"Retry-After": "1"})
    fake.fail(
        r"/pulls/\d+$",
        status=403,
        times=1,
        headers={"Retry-After": "1"},
        body={"message": "You have exceeded a secondary rate limit."},
    )
    forge = GitHubForge(fake.base_url, token=fake.bot_token, retries=3, backoff=0.01)
    ref = MergeRequestRef("github", "qemu/qemu", pr.number)
    fetched = await asyncio.to_thread(forge.get_change, ref)
    assert all(f.hits == 1 for f in fake.faults)
    assert fetched.info.head_sha == pr.head_sha
    assert fetched.change.files[0].new_text == qemu.ONE_FINDING
    fake.set_role(repo, alice, "admin")
    assert await asyncio.to_thread(forge.is_maintainer, ref, "alice")
    assert not await asyncio.to_thread(forge.is_maintainer, ref, "nobody")


async def test_github_refused_line_and_issue_upsert(fake_github: FakeGitHub) -> None:
    fake = fake_github
    repo = fake.create_repo("qemu/qemu", qemu.BASE_TREE)
    pr, _ = fake.open_pr(
        repo, title="t", author=fake.user("a"), changes={qemu.FOO_C: qemu.ONE_FINDING}
    )
    forge = GitHubForge(fake.base_url, token=fake.bot_token, retries=2, backoff=0.01)
    ref = MergeRequestRef("github", "qemu/qemu", pr.number)
    info = (await asyncio.to_thread(forge.get_change, ref)).info
    good = Placement(qemu.FOO_C, qemu.FOO_C, "+", qemu.ADDED_LINE, None)
    bad = Placement(qemu.FOO_C, qemu.FOO_C, "+", 99, None)
    plan = ReviewPlan(
        head_sha=info.head_sha,
        summary=NoteAction(Op.CREATE, body="<!-- migbot:summary -->\ns"),
        inline=(
            NoteAction(Op.CREATE, "a", body="<!-- migbot:finding:a -->", placement=good),
            NoteAction(Op.CREATE, "b", body="<!-- migbot:finding:b -->", placement=bad),
        ),
    )
    await asyncio.to_thread(forge.publish, ref, info, plan)
    kinds = sorted((c["subject_type"], c["line"]) for c in fake.roots(pr))
    assert kinds == [("file", None), ("line", qemu.ADDED_LINE)]
    url = await asyncio.to_thread(forge.upsert_issue, "qemu/qemu", "Digest", "one", ["digest"])
    again = await asyncio.to_thread(forge.upsert_issue, "qemu/qemu", "Digest", "two", ["digest"])
    assert url == again
    assert [(i["title"], i["body"]) for i in repo.issues] == [("Digest", "two")]
