"""What can be followed: an arXiv category or archive (``cs.CL``, ``cs``), an arXiv search
query, Hugging Face's daily papers. Input is checked against arXiv's taxonomy and written the
way arXiv writes it (``CS.cl`` is ``cs.CL``)."""

from __future__ import annotations

from paperfeed.errors import Invalid
from paperfeed.models import SOURCE_KINDS, Paper

# arXiv's archives, with their OAI-PMH set, and the subject classes of each (arxiv.org/
# category_taxonomy). Archives without subject classes are categories themselves (hep-th).
_PHYSICS = "physics:"
ARCHIVES: dict[str, tuple[str, str]] = {
    "astro-ph": (_PHYSICS + "astro-ph", "CO EP GA HE IM SR"),
    "cond-mat": (
        _PHYSICS + "cond-mat",
        "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    ),
    "cs": (
        "cs",
        "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA "
        "NE NI OH OS PF PL RO SC SD SE SI SY",
    ),
    "econ": ("econ", "EM GN TH"),
    "eess": ("eess", "AS IV SP SY"),
    "gr-qc": (_PHYSICS + "gr-qc", ""),
    "hep-ex": (_PHYSICS + "hep-ex", ""),
    "hep-lat": (_PHYSICS + "hep-lat", ""),
    "hep-ph": (_PHYSICS + "hep-ph", ""),
    "hep-th": (_PHYSICS + "hep-th", ""),
    "math": (
        "math",
        "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA RA "
        "RT SG SP ST",
    ),
    "math-ph": (_PHYSICS + "math-ph", ""),
    "nlin": (_PHYSICS + "nlin", "AO CD CG PS SI"),
    "nucl-ex": (_PHYSICS + "nucl-ex", ""),
    "nucl-th": (_PHYSICS + "nucl-th", ""),
    "physics": (
        _PHYSICS + "physics",
        "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an ed-ph "
        "flu-dyn gen-ph geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph soc-ph space-ph",
    ),
    "q-bio": ("q-bio", "BM CB GN MN NC OT PE QM SC TO"),
    "q-fin": ("q-fin", "CP EC GN MF PM PR RM ST TR"),
    "quant-ph": (_PHYSICS + "quant-ph", ""),
    "stat": ("stat", "AP CO ME ML OT TH"),
}
MAX_QUERY = 500


def normalize_source(kind: str, value: str = "") -> tuple[str, str]:
    """(kind, value) as stored, or Invalid saying what is wrong and what would be right."""
    kind = kind.strip().lower()
    value = " ".join(value.split())
    if kind == "arxiv":
        return kind, canonical_category(value)
    if kind == "arxiv-query":
        if not value:
            raise Invalid("an arxiv-query source needs a query, e.g. 'abs:\"state space\"'")
        if len(value) > MAX_QUERY:
            raise Invalid(f"an arXiv query may be at most {MAX_QUERY} characters")
        return kind, value
    if kind == "hf-daily":
        if value:
            raise Invalid("hf-daily takes no value: it follows Hugging Face's daily papers")
        return kind, ""
    raise Invalid(
        f"unknown source kind {kind!r}: use {', '.join(SOURCE_KINDS)} "
        "(arxiv cs.CL, arxiv-query 'abs:\"state space\"', hf-daily)"
    )


def canonical_category(text: str) -> str:
    """An arXiv category (``cs.CL``) or archive (``cs``) as arXiv writes it; Invalid otherwise."""
    archive_part, dot, subject_part = text.strip().partition(".")
    archive = archive_part.lower()
    if archive not in ARCHIVES:
        raise Invalid(
            f"{text!r} is not an arXiv category or archive (like cs.CL or cs); "
            f"archives: {', '.join(sorted(ARCHIVES))}"
        )
    if not dot:
        return archive
    subjects = {s.lower(): s for s in ARCHIVES[archive][1].split()}
    subject = subjects.get(subject_part.lower())
    if subject is None:
        known = ", ".join(f"{archive}.{s}" for s in subjects.values()) or f"just {archive}"
        raise Invalid(f"{text!r} is not an arXiv category; {archive} has {known}")
    return f"{archive}.{subject}"


def oai_set(category: str) -> str:
    """The OAI-PMH set holding a category's papers: its archive's (``cs``, ``physics:hep-th``)."""
    return ARCHIVES[category.partition(".")[0]][0]


def in_category(paper: Paper, category: str) -> bool:
    """Whether `paper` is listed in `category` (primary or cross-list), or in that archive."""
    if "." in category:
        return category in paper.categories
    return any(c.partition(".")[0] == category for c in paper.categories)
