"""Validated outputs of each phase. Stored as JSON in Postgres (phase_runs.output)."""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, Field


class Brief(BaseModel):
    business_name: str = Field(max_length=200)
    tagline: str = Field(max_length=200)
    audience: str = Field(max_length=500)
    tone: str = Field(max_length=200)
    key_messages: list[Annotated[str, Field(max_length=300)]] = Field(min_length=1, max_length=8)
    locale: str = Field(max_length=35)


class PagePlan(BaseModel):
    slug: str = Field(pattern=r"^[a-z0-9-]+$", max_length=60)  # "index" is the home page
    title: str = Field(max_length=120)
    nav_label: str = Field(max_length=40)
    purpose: str = Field(max_length=300)


class Sitemap(BaseModel):
    pages: list[PagePlan] = Field(min_length=3, max_length=8)


class Section(BaseModel):
    heading: str = Field(max_length=160)
    body: str = Field(max_length=4000)
    items: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list, max_length=20)


class PageContent(BaseModel):
    slug: str = Field(pattern=r"^[a-z0-9-]+$", max_length=60)
    title: str = Field(max_length=120)
    meta_description: str = Field(max_length=300)
    hero_heading: str = Field(max_length=160)
    hero_text: str = Field(max_length=600)
    sections: list[Section] = Field(min_length=1, max_length=12)


class Content(BaseModel):
    pages: list[PageContent] = Field(min_length=3, max_length=8)
    call_to_action: str = Field(max_length=120)


class SiteFile(BaseModel):
    path: str = Field(pattern=r"^[a-z0-9][a-z0-9._/-]*$", max_length=120)
    content_type: str = Field(
        max_length=100
    )  # ignored when published: the extension decides (website/files.py)
    body: str = Field(max_length=262_144)  # = website.files.MAX_FILE_BYTES; the review gate counts bytes


class SiteFiles(BaseModel):
    files: list[SiteFile] = Field(min_length=1, max_length=40)


class ReviewFinding(BaseModel):
    severity: Literal["error", "warning"]
    file: str = Field(max_length=200)
    message: str = Field(max_length=1000)


class Review(BaseModel):
    passed: bool
    checked_files: int
    findings: list[ReviewFinding] = Field(default_factory=list, max_length=500)


class Publication(BaseModel):
    site_url: str = Field(max_length=2000)  # the version's preview: index.html under its own prefix
    prefix: str = Field(max_length=200)
    files: int
    pages: list[Annotated[str, Field(max_length=120)]] = Field(
        default_factory=list, max_length=40
    )  # its HTML files


M = TypeVar("M", bound=BaseModel)


def as_model(model: type[M], value: BaseModel) -> M:
    """An output as the model it is (each phase's and part's answer is validated into its schema), for
    the type checker; a different model is a bug, not a model's mistake."""
    if not isinstance(value, model):
        raise TypeError(f"expected {model.__name__}, got {type(value).__name__}")
    return value


# --- per-page parts (content and code run one part per page, plus the stylesheet for code) ---------
STYLES_PART = "styles.css"  # the code phase's stylesheet part; every other part is a page slug (no dots)


class PageCopy(BaseModel):
    """A content part's answer: the copy of one page."""

    page: PageContent
    call_to_action: str = Field(max_length=120)


class PageMarkup(BaseModel):
    """A code part's answer for one page: what goes inside its <main>. sitegen wraps it in the shared
    shell (head, header and nav, footer), so every page gets the same nav and correct meta."""

    slug: str = Field(pattern=r"^[a-z0-9-]+$", max_length=60)
    main_html: str = Field(min_length=1, max_length=12_000)  # with the JSON around it, under 4,096 tokens


class Stylesheet(BaseModel):
    """The code phase's styles part: the whole styles.css."""

    css: str = Field(min_length=1, max_length=12_000)


PART_OUTPUTS: dict[str, type[BaseModel]] = {"content": PageCopy, "code": PageMarkup}
