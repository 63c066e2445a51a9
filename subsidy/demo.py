"""Demo data: the 2024 campaign (from the fixture) and a campaign open now. Idempotent.

The commitment letter, the FAQ of attachment 5 and the card BIN table are product data, not
demo data: migration 0003_reference_data loads them on every installation."""

import json
from datetime import datetime, time, timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from subsidy.models import FAQ, BankBin, Campaign

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def campaign_2024_values() -> dict:
    raw = json.loads((FIXTURES / "campaign_2024.json").read_text(encoding="utf-8"))[0]["fields"]
    values = {}
    for key, value in raw.items():
        if key in ("eligible_from", "eligible_until"):
            values[key] = parse_date(value)
        elif key.endswith("_at") or key.endswith("_until") or key == "membership_deadline":
            values[key] = parse_datetime(value)
        else:
            values[key] = value
    return values


def _end_of_day(moment):
    local = timezone.localtime(moment)
    return timezone.make_aware(datetime.combine(local.date(), time(23, 59, 59)))


def current_campaign_values(now) -> dict:
    """A campaign whose windows surround `now`: intake opened two days ago (the membership
    deadline with it, as in the notice), closes in five days; each review level's window
    runs past the close, the way 2024's did."""
    opens = timezone.localtime(now - timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    closes = opens + timedelta(days=7)
    base = campaign_2024_values()
    return {
        "title": f"{timezone.localdate(now).year} 年广州市职工学历教育补助（演示）",
        "eligible_from": timezone.localdate(now) - timedelta(days=365),
        "eligible_until": timezone.localtime(closes).date(),
        "membership_deadline": opens,
        "opens_at": opens,
        "closes_at": closes,
        "grassroots_review_until": _end_of_day(closes + timedelta(days=2)),
        "district_review_until": _end_of_day(closes + timedelta(days=8)),
        "city_review_until": _end_of_day(closes + timedelta(days=13)),
        "quota": base["quota"],
        "application_cap": base["application_cap"],
        "amount_cny": base["amount_cny"],
        "publication_days": base["publication_days"],
        "registry_sla_hours": base["registry_sla_hours"],
        "general_hotline": base["general_hotline"],
        "general_hotline_name": base["general_hotline_name"],
    }


def seed(stdout=None):
    now = timezone.now()
    with transaction.atomic():
        values_2024 = campaign_2024_values()
        Campaign.objects.update_or_create(year=values_2024.pop("year"), defaults=values_2024)
        year = timezone.localdate(now).year
        demo = Campaign.objects.filter(year=year).first()
        if year != 2024 and (demo is None or not demo.window_open(now)):
            # (re)open the demo campaign around now; counters and applications stay
            Campaign.objects.update_or_create(year=year, defaults=current_campaign_values(now))
    if stdout is not None:
        stdout.write(
            f"subsidy: {Campaign.objects.count()} 个批次（当前：{Campaign.current()}），"
            f"{FAQ.objects.count()} 条问答，{BankBin.objects.count()} 条卡BIN"
        )
