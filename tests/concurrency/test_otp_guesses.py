"""Parallel guesses at one sign-in code (SPEC §12: logins are rate-limited): however many
arrive at once, only MAX_VERIFY_ATTEMPTS of them are compared with the code — real parallel
HTTP requests against a live server on PostgreSQL. The control case switches the atomic claim
off (the test hook `otp_attempt_locking`) and shows the guesses getting past the limit."""

import re
import threading

import httpx
import pytest
from django.conf import settings as django_settings

from sms.backends import LocmemBackend
from subsidy.models import OneTimeCode
from subsidy.services import otp

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not django_settings.USING_POSTGRES, reason="parallel writers need PostgreSQL (CI runs it)"
    ),
]

PHONE = "13900000051"
GUESSES = 24  # the live server's listen queue is short: a refused connect is retried


def _guess_in_parallel(live_server, code):
    wrong = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, GUESSES + 1)]
    barrier = threading.Barrier(GUESSES)
    answers = []

    def guess(value):
        with httpx.Client(base_url=live_server.url, timeout=60) as http:
            barrier.wait()
            for _ in range(20):
                try:
                    r = http.post("/api/v1/auth/token/", json={"phone": PHONE, "code": value})
                    break
                except httpx.TransportError:  # not accepted: the guess never arrived
                    continue
            answers.append((r.status_code, r.json()["code"]))

    threads = [threading.Thread(target=guess, args=(w,)) for w in wrong]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(answers) == GUESSES
    return answers


def test_control_without_the_atomic_claim_parallel_guesses_get_past_the_limit(live_server, hooks):
    # every guess reads the count before any writes it
    hooks.set(otp_attempt_locking=False, otp_race_delay=0.2)
    otp.request_code(PHONE, ip="10.0.0.1")
    code = re.search(r"\d{6}", LocmemBackend.outbox[-1][1]).group(0)
    answers = _guess_in_parallel(live_server, code)
    compared = [a for a in answers if a[1] == "otp_invalid"]
    assert len(compared) > otp.MAX_VERIFY_ATTEMPTS


def test_parallel_wrong_guesses_use_up_exactly_the_allowed_attempts(live_server):
    otp.request_code(PHONE, ip="10.0.0.1")
    code = re.search(r"\d{6}", LocmemBackend.outbox[-1][1]).group(0)
    answers = _guess_in_parallel(live_server, code)
    compared = [a for a in answers if a[1] == "otp_invalid"]
    assert len(compared) == otp.MAX_VERIFY_ATTEMPTS, sorted(set(answers))
    assert all(a == (400, "otp_too_many_attempts") for a in answers if a not in compared)
    assert OneTimeCode.objects.get(phone=PHONE).attempts == otp.MAX_VERIFY_ATTEMPTS
    # the right code, now, is refused too: the attempts are spent
    with pytest.raises(otp.OtpError) as exc:
        otp.verify_code(PHONE, code)
    assert exc.value.code == "otp_too_many_attempts"
