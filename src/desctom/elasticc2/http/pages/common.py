"""What the ELAsTiCC2 pages share: class names and pagers."""

from __future__ import annotations

from desctom.survey.taxonomy import CLASSES


def class_name(classid) -> str:
    """``"2222 Ia"`` (or the bare id if the taxonomy does not know it)."""
    if classid is None:
        return "—"
    name = CLASSES.get(int(classid))
    return f"{classid} {name}" if name else str(classid)


def page_numbers(request, total: int, per_page: int, name: str = "page") -> tuple[int, int, dict]:
    """``(offset, limit, pager)`` for ``?<name>=N``; ``pager`` has page, pages, prev, next, param."""
    pages = max(1, -(-total // per_page))
    try:
        page = min(max(1, int(request.GET.get(name, 1))), pages)
    except ValueError:
        page = 1
    query = request.GET.copy()

    def link(n):
        query[name] = n
        return "?" + query.urlencode()

    pager = {"page": page, "pages": pages, "total": total,
             "prev": link(page - 1) if page > 1 else None, "next": link(page + 1) if page < pages else None}
    return (page - 1) * per_page, per_page, pager
