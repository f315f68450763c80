"""Days done and the streak, and what is said about them (the article's guidance). Pure."""

from __future__ import annotations

import datetime as dt

from skill.core.model import Profile, Prompt, prompt, replace

DAILY_ADVICE_AFTER_DAYS = 6  # "every other day at first"; after this, the advice for daily use


def record_day(p: Profile, today: str | None) -> Profile:
    """Count a completed routine: days with a routine done, and how many in a row."""
    if today is None:  # no date given: count the day, keep the streak
        return replace(p, days_done=p.days_done + 1, streak=max(p.streak, 1))
    if p.last_day == today:
        return p
    gap = None
    if p.last_day is not None:
        gap = (dt.date.fromisoformat(today) - dt.date.fromisoformat(p.last_day)).days
    streak = p.streak + 1 if gap == 1 else 1
    return replace(p, days_done=p.days_done + 1, streak=streak, last_day=today)


def progress_report(p: Profile) -> tuple[Prompt, ...]:
    """Days done and the streak, with the article's guidance for where the user is. No nagging."""
    if p.days_done == 0:
        return (prompt("progress_none"), prompt("advice_start"))
    count = (prompt("progress", days=p.days_done, streak=p.streak) if p.days_done > 1
             else prompt("progress_first"))
    daily = p.days_done >= DAILY_ADVICE_AFTER_DAYS
    advice = prompt("advice_daily") if daily else prompt("advice_start")
    return (count, advice)
