"""What the MCP tools answer: pydantic models, so that each tool declares an output schema and
returns structured content (and the same as JSON text for clients that read only text)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from paperfeed import links
from paperfeed.listings import TrendingItem
from paperfeed.models import Paper, Submission


class PaperOut(BaseModel):
    """One paper, with where to read it."""

    id: str = Field(description="arXiv id (without version), or local:<hash>")
    title: str
    authors: list[str]
    abstract: str
    published: str | None = Field(None, description="first version, YYYY-MM-DD")
    categories: list[str]
    upvotes: int
    url: str = Field(description="the paper's page on this site")
    arxiv_url: str | None = None
    pdf_url: str | None = None
    submitted_on: str | None = Field(None, description="the daily feed it is on, YYYY-MM-DD")
    submitted_by: str | None = None

    @classmethod
    def of(
        cls,
        paper: Paper,
        base_url: str,
        submission: Submission | None = None,
        upvotes: int | None = None,
    ) -> PaperOut:
        abs_url, pdf_url = links.source_links(paper)
        return cls(
            id=paper.id,
            title=paper.title,
            authors=paper.authors,
            abstract=paper.abstract,
            published=paper.published.date().isoformat() if paper.published else None,
            categories=paper.categories,
            upvotes=paper.upvotes if upvotes is None else upvotes,
            url=links.paper_url(base_url, paper.id),
            arxiv_url=abs_url,
            pdf_url=pdf_url,
            submitted_on=submission.day.isoformat() if submission else None,
            submitted_by=submission.submitter if submission else None,
        )


class SearchResults(BaseModel):
    query: str
    papers: list[PaperOut] = Field(description="best match first")
    note: str | None = Field(None, description="what the search ignored or changed, if anything")


class SimilarPapers(BaseModel):
    paper_id: str
    papers: list[PaperOut] = Field(description="most similar first")


class DailyPapers(BaseModel):
    period: str = Field(description="the day, week or month listed")
    sort: str
    papers: list[PaperOut]


class TrendingPaper(PaperOut):
    score: float = Field(description="(upvotes + 1) / (age_hours + 2) ^ gravity")

    @classmethod
    def of_trending(cls, trending: TrendingItem, base_url: str) -> TrendingPaper:
        item = trending.item
        paper = PaperOut.of(item.paper, base_url, item.submission, item.upvotes)
        return cls(**paper.model_dump(), score=round(trending.score, 6))


class TrendingPapers(BaseModel):
    as_of: str = Field(description="when ages are measured from, ISO 8601 UTC")
    window_days: int
    papers: list[TrendingPaper] = Field(description="highest score first")
