"""Validating a whole LRB file in one streaming pass: every problem in file order, then the
counts and the report's last line."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from lrs_ws.adapters.lrb.layout import Problem, counted
from lrs_ws.adapters.lrb.reading import open_lrb


class Validation:
    """One streaming pass over an LRB file: iterate it (once) for every problem, in file order.

    The file is opened at once (OSError if it cannot be); the counts are final when the
    iteration has ended. Usable as a context manager, which closes the file.
    """

    PROGRESS_EVERY = 1000  # learner rows between calls of ``progress``

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        ukprn: str | None = None,
        name: str | None = None,
        progress: Callable[[int], object] | None = None,
    ) -> None:
        self.reader = open_lrb(path, name=name, ukprn=ukprn)
        self.progress = progress
        self.name = self.reader.name
        self.format = self.reader.format
        self.header = self.reader.header
        self.size = self.reader.size
        self.learner_rows = 0
        self.rows_with_problems = 0
        self.file_problem_count = 0
        self.row_problem_count = 0

    def __enter__(self) -> Validation:
        return self

    def __exit__(self, *exc) -> None:
        self.reader.close()

    @property
    def bytes_read(self) -> int:
        return self.reader.bytes_read

    @property
    def problem_count(self) -> int:
        return self.file_problem_count + self.row_problem_count

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def __iter__(self) -> Iterator[Problem]:
        reader = self.reader
        shown = 0

        def new_file_problems() -> list[Problem]:
            nonlocal shown
            fresh = reader.file_problems[shown:]
            shown = len(reader.file_problems)
            self.file_problem_count += len(fresh)
            return fresh

        try:
            yield from new_file_problems()
            for row in reader.rows():
                yield from new_file_problems()
                self.learner_rows += 1
                if row.problems:
                    self.rows_with_problems += 1
                    self.row_problem_count += len(row.problems)
                    yield from row.problems
                if self.progress is not None and self.learner_rows % self.PROGRESS_EVERY == 0:
                    self.progress(reader.bytes_read)
            yield from new_file_problems()
            if self.progress is not None:
                self.progress(self.size)
        finally:
            reader.close()

    def summary(self) -> str:
        """One line for the end of a report: ``LRB_...CSV valid: 1,000 learner rows`` or
        ``LRB_...CSV: 3 problems in 2 of 1,000 learner rows`` (final once iterated)."""
        noun = "learner row" if self.format == "CSV" else "learner"
        rows = counted(self.learner_rows, noun)
        if self.ok:
            return f"{self.name} valid: {rows}"
        in_rows = f"{counted(self.row_problem_count, 'problem')} in {self.rows_with_problems:,} of {rows}"
        if not self.file_problem_count:
            return f"{self.name}: {in_rows}"
        with_file = f"{self.file_problem_count:,} with the file"
        if not self.row_problem_count:
            return f"{self.name}: {counted(self.problem_count, 'problem')} with the file; {rows}"
        with_rows = f"{self.row_problem_count:,} in {self.rows_with_problems:,} of {rows}"
        return f"{self.name}: {counted(self.problem_count, 'problem')}: {with_file}, {with_rows}"


def validate(
    path: str | os.PathLike,
    *,
    ukprn: str | None = None,
    name: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Validation:
    """Check a whole LRB file in one streaming pass; iterate the result for the problems.
    ``progress``, when given, is called with the bytes read so far every 1,000 learners."""
    return Validation(path, ukprn=ukprn, name=name, progress=progress)

