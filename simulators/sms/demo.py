"""Demo: template codes for the SMS templates that have none, in the simulator's shape
(SMS_9000000n), so `SMS_BACKEND=provider` against /sms-sim/ sends every message."""


def seed(stdout=None):
    from sms.models import SmsTemplate

    n = 0
    for i, row in enumerate(SmsTemplate.objects.order_by("key"), start=1):
        if not row.provider_code:
            row.provider_code = f"SMS_{90000000 + i}"
            row.save(update_fields=["provider_code", "updated_at"])
            n += 1
    if stdout is not None and n:
        stdout.write(f"SMS templates: {n} simulator template codes filled in")
