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


KEEP = 1_000  # problems kept in full; beyond them a report counts the rest by field and kind


def _order(p: Problem) -> tuple:
    return (p.row is not None, p.row or 0, p.field or "")


@dataclass
class Omitted:
    """Problems beyond the first KEEP, counted by what they are about (one example each)."""

    field: str | None
    kind: str | None
    count: int
    example: Problem  # the first of them in row order

    def as_dict(self) -> dict:
        return {"field": self.field, "kind": self.kind, "count": self.count, "example": self.example.as_dict()}


@dataclass
class Report:
    """What one input's check found. A file of a million bad rows (the same file imported twice) holds two million
    problems: the first KEEP (in row order, the input's own first) are kept in full, the others counted by field
    and kind, and the rows they are in marked one byte each, so memory stays flat and every count stays exact."""

    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    keep: int = KEEP
    total: int = field(default=0, init=False)  # problems found, kept or not
    omitted: dict[tuple[str | None, str | None], Omitted] = field(default_factory=dict, init=False)
    _bad: bytearray = field(default_factory=bytearray, init=False, repr=False)  # 1 at a row with a problem
    _n_bad: int = field(default=0, init=False)
    _whole: set[Problem] = field(default_factory=set, init=False, repr=False)  # the input's own problems

    def __post_init__(self) -> None:
        given, self.problems = self.problems, []
        for p in given:
            self._note(p)

    @property
    def ok(self) -> bool:
        return self.total == 0

    def add(
        self,
        row: int | None,
        fld: str | None,
        message: str,
        code: str | None = None,
        kind: str | None = None,
        ref: str | None = None,
    ) -> None:
        self._note(Problem(row, fld, message, code, kind, ref))

    def _note(self, problem: Problem) -> None:
        if problem.row is None:
            if problem in self._whole:  # a whole-input problem, seen again in a later batch
                return
            self._whole.add(problem)
        else:
            if problem.row >= len(self._bad):
                self._bad.extend(bytes(problem.row + 1 - len(self._bad) + 65_536))
            if not self._bad[problem.row]:
                self._bad[problem.row] = 1
                self._n_bad += 1
        self.total += 1
        self.problems.append(problem)
        if len(self.problems) > 2 * self.keep:
            self._trim()

    def _trim(self) -> None:
        """Keep the first `keep` problems in row order; count the others."""
        self.problems.sort(key=_order)
        for p in self.problems[self.keep :]:
            key = (p.field, p.kind)
            if key in self.omitted:
                o = self.omitted[key]
                o.count += 1
                if _order(p) < _order(o.example):
                    o.example = p
            else:
                self.omitted[key] = Omitted(p.field, p.kind, 1, p)
        del self.problems[self.keep :]

    def sorted_problems(self) -> list[Problem]:
        """The problems kept, in row order (the input's own first)."""
        self._trim()
        return list(self.problems)

    def omitted_problems(self) -> list[Omitted]:
        """The problems beyond those kept, by field and kind, the most frequent first."""
        self._trim()
        return sorted(self.omitted.values(), key=lambda o: (-o.count, o.field or "", o.kind or ""))

    def bad_row_count(self) -> int:
        return self._n_bad

    def text(self, limit: int | None = None, hints: dict[str, str] | None = None) -> str:
        """One line per problem; `hints` (kind → advice) adds the caller's own advice, such as the CLI's options."""
        probs = self.sorted_problems()
        hints = hints or {}
        lines = [
            str(p) + (f" ({hints[p.kind].format(field=p.field)})" if p.kind in hints else "")
            for p in (probs if limit is None else probs[:limit])
        ]
        if self.total > len(lines):
            by_field: dict[str, int] = {}
            for p in probs[len(lines) :]:
                by_field[p.field or "input"] = by_field.get(p.field or "input", 0) + 1
            for o in self.omitted.values():
                by_field[o.field or "input"] = by_field.get(o.field or "input", 0) + o.count
            parts = ", ".join(f"{n:,} {f}" for f, n in sorted(by_field.items(), key=lambda kv: (-kv[1], kv[0])))
            lines.append(f"… and {self.total - len(lines):,} more problems ({parts})")
        return "\n".join(lines)

    def summary(self) -> str:
        return f"{self.total} problem(s) in {self._n_bad} of {self.rows} row(s)" + (
            " and in the input as a whole" if self._whole else ""
        )

    def as_dict(self) -> dict:
        out = {
            "rows": self.rows,
            "ok": self.ok,
            "problems": [p.as_dict() for p in self.sorted_problems()],
            "warnings": list(self.warnings),
        }
        if self.omitted:
            out["problems_total"] = self.total
            out["problems_omitted"] = [o.as_dict() for o in self.omitted_problems()]
        return out


class ValidationFailed(LandfundError):
    """The input was refused; nothing was written."""

    def __init__(self, report: Report, limit: int | None = 200):
        self.report = report
        self.source_name: str | None = None  # the file refused, when one of several was being loaded
        super().__init__(f"{report.summary()}; nothing was written.\n{report.text(limit)}")

    def message(self, hints: dict[str, str], limit: int | None = 200) -> str:
        return f"{self.report.summary()}; nothing was written.\n{self.report.text(limit, hints)}"
