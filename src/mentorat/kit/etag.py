"""ETags from record versions, and If-Match checks for optimistic concurrency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response

from mentorat.errors import PreconditionFailed

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="ETag of the version you change; a stale one is a 412.",
    ),
]


def etag_for(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_for(version)


def check_if_match(if_match: str | None, version: int) -> None:
    """A stale If-Match is a 412; no header means the caller accepts last-write-wins."""
    if if_match is None:
        return
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" in candidates or etag_for(version) in candidates:
        return
    raise PreconditionFailed(
        f"The record is at version {version}; your If-Match was {if_match}. "
        "Read it again and re-apply your change."
    )
