"""Date arithmetic in SQL that runs the same on SQLite and PostgreSQL (each has its own syntax)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class days_between(FunctionElement[float]):
    """Days (fractional) from ``start`` to ``end``; each database has its own date arithmetic."""

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    end, start = list(element.clauses)
    return (
        f"(julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}))"
    )


@compiles(days_between)
def _days_default(element: days_between, compiler: Any, **kw: Any) -> str:
    end, start = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"
        " / 86400.0)"
    )


class whole_days(FunctionElement[int]):
    """Completed days from ``start`` to ``end`` (rounded down)."""

    type = Integer()
    inherit_cache = True
    name = "whole_days"


@compiles(whole_days, "sqlite")
def _whole_days_sqlite(element: whole_days, compiler: Any, **kw: Any) -> str:
    end, start = list(element.clauses)
    inner = compiler.process(days_between(end, start), **kw)
    return f"CAST({inner} AS INTEGER)"  # truncates; follow-up is never negative


@compiles(whole_days)
def _whole_days_default(element: whole_days, compiler: Any, **kw: Any) -> str:
    end, start = list(element.clauses)
    return f"CAST(FLOOR({compiler.process(days_between(end, start), **kw)}) AS INTEGER)"


class year_of(FunctionElement[int]):
    """The calendar year of a moment."""

    type = Integer()
    inherit_cache = True
    name = "year_of"


@compiles(year_of, "sqlite")
def _year_sqlite(element: year_of, compiler: Any, **kw: Any) -> str:
    (moment,) = list(element.clauses)
    return f"CAST(strftime('%Y', {compiler.process(moment, **kw)}) AS INTEGER)"


@compiles(year_of)
def _year_default(element: year_of, compiler: Any, **kw: Any) -> str:
    (moment,) = list(element.clauses)
    return f"CAST(EXTRACT(YEAR FROM {compiler.process(moment, **kw)}) AS INTEGER)"
