"""EventBridge schedule expressions, as PutRule takes them, and the times they fire.

    rate(N minute|minutes|hour|hours|day|days)   N >= 1, singular unit for 1, plural otherwise;
                                                  periods counted from the rule's creation time
    cron(Minutes Hours Day-of-month Month Day-of-week Year)      in UTC, as AWS reads them:
        Minutes 0-59, Hours 0-23, Day-of-month 1-31, Month 1-12 or JAN-DEC,
        Day-of-week 1-7 or SUN-SAT (1 = SUN), Year 1970-2199;
        each field *, a number, a range a-b, a step */n, a/n or a-b/n, or a list of those (a,b);
        one of Day-of-month and Day-of-week must be ?, the other not.
    AWS's L, W and # (last day, nearest weekday, nth weekday) and ranges that wrap around
    (FRI-MON) are refused: the emulator would not fire them when AWS does.

parse(text) -> Rate or Cron, or raises ScheduleError(reason). Both have
times(t0, t1, created, limit) -> (fire times in (t0, t1] in order, the last `limit` of them
when limit > 0, else all; how many there are in all).
"""

import calendar
import datetime
import re

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((.*)\)")
_UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}


class ScheduleError(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class Rate:
    def __init__(self, value, unit):
        self.period_s = value * _UNIT_S[unit]

    def times(self, t0, t1, created, limit=0):
        """created + n * period for n >= 1, within (t0, t1]."""
        p = self.period_s
        first = max(1, int((t0 - created) // p) + 1)
        last = int((t1 - created) // p)
        count = max(0, last - first + 1)
        if limit:
            first = max(first, last - limit + 1)
        return [created + n * p for n in range(first, last + 1)], count


class Cron:
    def __init__(self, minutes, hours, days_of_month, months, days_of_week, years):
        self.months, self.years = months, years
        self.days_of_month, self.days_of_week = days_of_month, days_of_week  # None: "?"
        self.offsets = sorted(h * 3600 + m * 60 for h in hours for m in minutes)

    def _day_matches(self, day):
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.days_of_month is not None:
            return day.day in self.days_of_month
        return (day.weekday() + 1) % 7 + 1 in self.days_of_week  # Monday is 0 in Python, 2 here

    def times(self, t0, t1, created=None, limit=0):
        if t1 <= t0:
            return [], 0
        day = datetime.datetime.fromtimestamp(t0, datetime.timezone.utc).date()
        end = datetime.datetime.fromtimestamp(t1, datetime.timezone.utc).date()
        out, count = [], 0
        while day <= end:
            if self._day_matches(day):
                base = calendar.timegm(day.timetuple())
                if t0 < base + self.offsets[0] and base + self.offsets[-1] <= t1:
                    count += len(self.offsets)
                    offsets = self.offsets[-limit:] if limit else self.offsets
                    out.extend(base + o for o in offsets)
                else:
                    for o in self.offsets:
                        if t0 < base + o <= t1:
                            count += 1
                            out.append(base + o)
                if limit and len(out) > 4 * limit:
                    del out[:-limit]
            day += datetime.timedelta(days=1)
        if limit:
            out = out[-limit:]
        return out, count


def _value(text, lo, hi, names):
    t = text.upper()
    if names and t in names:
        return names.index(t) + lo
    if not t.isdigit():
        raise ValueError(text)
    v = int(t)
    if not lo <= v <= hi:
        raise ValueError(text)
    return v


def _field(text, lo, hi, names=None, question=False):
    """One cron field -> set of values, or None for "?"."""
    if text == "?":
        if not question:
            raise ScheduleError("? is only allowed in the Day-of-month and Day-of-week fields")
        return None
    values = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        try:
            step = 1
            if slash:
                if not step_text.isdigit() or int(step_text) < 1:
                    raise ValueError(part)
                step = int(step_text)
            if base == "*":
                first, last = lo, hi
            elif "-" in base:
                a, _, b = base.partition("-")
                first, last = _value(a, lo, hi, names), _value(b, lo, hi, names)
                if first > last:
                    raise ScheduleError("the emulator does not support ranges that wrap around "
                                        "(%s)" % part)
            else:
                first = _value(base, lo, hi, names)
                last = hi if slash else first
        except ValueError:
            if "#" in part or re.fullmatch(r"L|LW|L-\d+|\d+[LW]", part.upper()):
                raise ScheduleError("the emulator does not support L, W or # in cron expressions "
                                    "(%s)" % part)
            raise ScheduleError("invalid cron field value %s" % part)
        values.update(range(first, last + 1, step))
    return values


def parse(text):
    m = _RATE.fullmatch(text)
    if m:
        value, unit = int(m.group(1)), m.group(2)
        if value < 1:
            raise ScheduleError("the rate value must be a positive number")
        if (value == 1) != (not unit.endswith("s")):
            raise ScheduleError("use a singular unit for 1 and a plural one otherwise")
        return Rate(value, unit.rstrip("s"))
    m = _CRON.fullmatch(text)
    if not m:
        raise ScheduleError("a schedule is rate(value unit) or cron(fields)")
    fields = m.group(1).split()
    if len(fields) != 6 or m.group(1) != " ".join(fields):
        raise ScheduleError("cron needs 6 fields separated by single spaces")
    minutes = _field(fields[0], 0, 59)
    hours = _field(fields[1], 0, 23)
    dom = _field(fields[2], 1, 31, question=True)
    months = _field(fields[3], 1, 12, MONTHS)
    dow = _field(fields[4], 1, 7, DAYS, question=True)
    years = _field(fields[5], 1970, 2199)
    if (dom is None) == (dow is None):
        raise ScheduleError("one of Day-of-month and Day-of-week must be ?, the other not")
    return Cron(minutes, hours, dom, months, dow, years)
