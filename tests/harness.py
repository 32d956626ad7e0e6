"""Small helpers that keep tests to one line: the pipeline with the shipped rules bound."""

from __future__ import annotations

from typing import Any

from bot.change import Change
from bot.findings import Report
from bot.judge.catalogue import load_catalogue
from bot.judge.policy import load_policy
from bot.pipeline import ReviewOptions
from bot.pipeline import review as pipeline_review


def review(change: Change, options: ReviewOptions | None = None, **kwargs: Any) -> Report:
    """`bot.pipeline.review` with the shipped catalogue and policy (tier maps in memory)."""
    kwargs.setdefault("catalogue", load_catalogue())
    kwargs.setdefault("policy", load_policy())
    return pipeline_review(change, options, **kwargs)
