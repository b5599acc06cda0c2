"""What the validator found: problems (which refuse the whole batch) and warnings (which do not)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.errors import LandfundError


@dataclass(frozen=True)
class Problem:
    row: int | None  # 1-based position in the input; None for the input as a whole
    field: str | None
    message: str
    code: str | None = None  # the row's own code, to help find it
    kind: str | None = None  # what sort of problem (the CLI adds its own advice for some kinds)
    ref: str | None = None  # what the problem is about, when it is another record (the parcel overlapped)

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.code:
            where.append(f"code {self.code}")
        prefix = ", ".join(where)
        what = f"{self.field}: " if self.field else ""
        return f"{prefix}: {what}{self.message}" if prefix else f"{what}{self.message}"

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "code": self.code,
            "field": self.field,
            "message": self.message,
            **({"overlaps": self.ref} if self.kind == "overlap" and self.ref else {}),
        }


@dataclass
class Report:
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(
        self,
        row: int | None,
        fld: str | None,
        message: str,
        code: str | None = None,
        kind: str | None = None,
        ref: str | None = None,
    ) -> None:
        problem = Problem(row, fld, message, code, kind, ref)
        if row is None and problem in self.problems:  # a whole-input problem, seen again in a later batch
            return
        self.problems.append(problem)

    def sorted_problems(self) -> list[Problem]:
        return sorted(self.problems, key=lambda p: (p.row is not None, p.row or 0, p.field or ""))

    def bad_rows(self) -> set[int]:
        return {p.row for p in self.problems if p.row is not None}

    def text(self, limit: int | None = None, hints: dict[str, str] | None = None) -> str:
        """One line per problem; `hints` (kind → advice) adds the caller's own advice, such as the CLI's options."""
        probs = self.sorted_problems()
        hints = hints or {}
        lines = [
            str(p) + (f" ({hints[p.kind].format(field=p.field)})" if p.kind in hints else "")
            for p in (probs if limit is None else probs[:limit])
        ]
        if limit is not None and len(probs) > limit:
            lines.append(f"… and {len(probs) - limit} more problems")
        return "\n".join(lines)

    def summary(self) -> str:
        n_bad = len(self.bad_rows())
        return f"{len(self.problems)} problem(s) in {n_bad} of {self.rows} row(s)" + (
            " and in the input as a whole" if any(p.row is None for p in self.problems) else ""
        )

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "ok": self.ok,
            "problems": [p.as_dict() for p in self.sorted_problems()],
            "warnings": list(self.warnings),
        }


class ValidationFailed(LandfundError):
    """The input was refused; nothing was written."""

    def __init__(self, report: Report, limit: int | None = 200):
        self.report = report
        self.source_name: str | None = None  # the file refused, when one of several was being loaded
        super().__init__(f"{report.summary()}; nothing was written.\n{report.text(limit)}")

    def message(self, hints: dict[str, str], limit: int | None = 200) -> str:
        return f"{self.report.summary()}; nothing was written.\n{self.report.text(limit, hints)}"
