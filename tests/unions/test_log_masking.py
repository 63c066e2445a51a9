"""No log line carries a whole ID or card number: not runserver's access lines, not Django's
own loggers, not a Celery worker's handlers, not an exception's traceback."""

import io
import logging
import sys

import pytest
from celery.signals import after_setup_logger, after_setup_task_logger

from unions.pii import MaskPIILogFilter

ID_NUMBER = "440104198502070017"
ACCOUNT = "6222021001115227281"


def _reached(logger: logging.Logger) -> list[logging.Handler]:
    """The handlers a record logged on `logger` goes through (as Logger.callHandlers walks)."""
    handlers = []
    while logger:
        handlers.extend(logger.handlers)
        logger = logger.parent if logger.propagate else None
    # pytest's own capture, present only under test
    return [h for h in handlers if not type(h).__module__.startswith("_pytest")]


@pytest.fixture
def streams():
    """Points StreamHandlers at buffers for the test and back afterwards."""
    swapped = []

    def swap(handler):
        out = io.StringIO()
        swapped.append((handler, handler.setStream(out)))
        return out

    yield swap
    for handler, old in swapped:
        handler.setStream(old)


def _logger_with_buffer(name: str) -> tuple[logging.Logger, io.StringIO]:
    logger = logging.getLogger(name)
    logger.handlers, logger.propagate = [], False
    handler = logging.StreamHandler(io.StringIO())
    logger.addHandler(handler)
    return logger, handler.stream


def test_runserver_access_lines_are_masked(streams):
    logger = logging.getLogger("django.server")
    handlers = [h for h in _reached(logger) if isinstance(h, logging.StreamHandler)]
    assert handlers
    outs = [streams(h) for h in handlers]
    logger.info(
        '"%s" %s %s',
        f"GET /review/?q={ID_NUMBER} HTTP/1.1",
        "200",
        "1234",
        extra={"status_code": 200},
    )
    written = "".join(out.getvalue() for out in outs)
    assert "GET /review/?q=440104********0017 HTTP/1.1" in written
    assert ID_NUMBER not in written
    assert written.startswith("[")  # Django's "[{server_time}] {message}" format is kept


@pytest.mark.parametrize("name", ["django.server", "django.request", "django.security.csrf"])
def test_every_handler_a_django_record_reaches_masks_it(name):
    handlers = _reached(logging.getLogger(name))
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, MaskPIILogFilter) for f in handler.filters), handler


def test_a_django_request_error_is_written_once_and_masked(streams, settings):
    settings.DEBUG = True  # Django's default "django" console handler wrote under DEBUG
    logger = logging.getLogger("django.request")
    outs = [streams(h) for h in _reached(logger) if isinstance(h, logging.StreamHandler)]
    logger.warning("Bad Request: /review/?q=%s", ID_NUMBER)
    written = "".join(out.getvalue() for out in outs)
    assert written.count("Bad Request") == 1
    assert ID_NUMBER not in written and "440104********0017" in written


def test_the_traceback_is_masked_and_printed_once():
    logger, out = _logger_with_buffer("tests.pii.traceback")
    logger.handlers[0].addFilter(MaskPIILogFilter())
    try:
        raise ValueError(f"no member with {ID_NUMBER}, card {ACCOUNT}")
    except ValueError:
        logger.exception("look-up failed")
    written = out.getvalue()
    assert ID_NUMBER not in written and ACCOUNT not in written
    assert "ValueError: no member with 440104********0017, card ****7281" in written
    assert written.count("Traceback (most recent call last)") == 1


def test_the_record_still_says_there_was_an_exception():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
    try:
        raise KeyError(ID_NUMBER)
    except KeyError:
        record.exc_info = sys.exc_info()
    assert MaskPIILogFilter().filter(record)
    assert record.exc_info is not None and record.exc_info[0] is KeyError
    assert ID_NUMBER not in record.exc_text and "440104********0017" in record.exc_text
    assert ID_NUMBER not in logging.Formatter().format(record)


def test_a_stack_dump_is_masked():
    logger, out = _logger_with_buffer("tests.pii.stack")
    logger.handlers[0].addFilter(MaskPIILogFilter())

    def lookup(number):
        logger.info("looking up", stack_info=True)

    lookup("440104198502070017")  # the dump shows this source line
    written = out.getvalue()
    assert "Stack (most recent call last)" in written
    assert ID_NUMBER not in written and 'lookup("440104********0017")' in written


@pytest.mark.parametrize("signal", [after_setup_logger, after_setup_task_logger])
def test_a_celery_workers_handlers_get_the_filter(signal):
    """The worker replaces the root logger's handlers (worker_hijack_root_logger) and sets up
    the task logger's: the signal Celery sends afterwards puts the filter on each."""
    logger, out = _logger_with_buffer(f"tests.pii.celery.{signal.name}")
    for _ in range(2):  # sent twice (a worker sets up again): the filter is added once
        signal.send(
            sender=None,
            logger=logger,
            loglevel=logging.INFO,
            logfile=None,
            format="%(message)s",
            colorize=False,
        )
    assert sum(isinstance(f, MaskPIILogFilter) for f in logger.handlers[0].filters) == 1
    logger.warning("registry refused %s for account %s", ID_NUMBER, ACCOUNT)
    assert out.getvalue().strip() == "registry refused 440104********0017 for account ****7281"


def test_without_the_signal_a_celery_handler_would_write_the_number():
    """The control case: a handler Celery set up has no filter of its own."""
    logger, out = _logger_with_buffer("tests.pii.celery.control")
    logger.warning("registry refused %s", ID_NUMBER)
    assert ID_NUMBER in out.getvalue()
