"""The multipart parser of POST /api/v1/applications/ (`subsidy.api.parsers`): the same fields
and files as DRF's (Django's) MultiPartParser for what clients send, a 400 `parse_error` for
what is not multipart, Django's limits with our codes, and the photo limit unchanged."""

import base64
import io

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.http import QueryDict
from django.test.client import encode_multipart
from django.utils.datastructures import MultiValueDict
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request

from subsidy.api.parsers import SubmissionMultiPartParser
from subsidy.models import Application
from tests.perf.loadgen import Multipart
from tests.subsidy.conftest import form_data, image_bytes, photo, post_application

URL = "/api/v1/applications/"
BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"


def part(name, content, filename=None, content_type=None, extra_headers=()):
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    headers = [f"Content-Disposition: {disposition}"]
    if content_type:
        headers.append(f"Content-Type: {content_type}")
    headers += extra_headers
    if isinstance(content, str):
        content = content.encode()
    return "\r\n".join(headers).encode() + b"\r\n\r\n" + content


def multipart_body(*parts, boundary=BOUNDARY):
    delimiter = f"--{boundary}".encode()
    body = b"".join(delimiter + b"\r\n" + p + b"\r\n" for p in parts)
    return body + delimiter + b"--\r\n"


def content_type(boundary=BOUNDARY):
    return f"multipart/form-data; boundary={boundary}"


def parse(parser, body, ctype):
    request = WSGIRequest(
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": URL,
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": ctype,
            "wsgi.url_scheme": "http",
        }
    )
    result = parser.parse(request, ctype, {"request": request, "encoding": "utf-8"})
    files = {
        name: [
            (
                type(f).__name__,
                f.name,
                f.size,
                f.content_type,
                f.charset,
                f.content_type_extra,
                f.read(),
                f.read(),  # at its end after one read …
                f.seek(0) or f.read(3),  # … and back at the start after seek(0)
            )
            for f in values
        ]
        for name, values in result.files.lists()
    }
    assert isinstance(result.data, QueryDict) and isinstance(result.files, MultiValueDict)
    return list(result.data.lists()), files, result.data._mutable


def assert_same_as_django(body, ctype=None):
    ctype = ctype or content_type()
    ours = parse(SubmissionMultiPartParser(), body, ctype)
    assert ours == parse(MultiPartParser(), body, ctype)
    return ours


def test_the_benchmark_submission_parses_as_django_does():
    jpeg = image_bytes()
    mp = Multipart("card_photo", "card.jpg", "image/jpeg", jpeg)
    body = b"".join(mp.parts(form_data()))
    data, files, mutable = assert_same_as_django(body, content_type(mp.boundary))
    assert dict(data)["job_position"] == ["数控车床操作工"] and not mutable
    assert files["card_photo"][0][:4] == (
        "InMemoryUploadedFile",
        "card.jpg",
        len(jpeg),
        "image/jpeg",
    )
    assert files["card_photo"][0][6] == jpeg


def test_request_data_merges_fields_and_files_as_with_django():
    """DRF copies the parsed fields to merge the files into `request.data`; our fields'
    copy() is shallow (str values) and must give the same, independent, mutable QueryDict."""
    mp = Multipart("card_photo", "card.jpg", "image/jpeg", image_bytes())
    body = b"".join(mp.parts(form_data(job_position="数控车床操作工")))
    ctype = content_type(mp.boundary)

    def request_data(parser):
        environ = {"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(body)}
        environ |= {"CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": ctype}
        request = Request(WSGIRequest(environ), parsers=[parser])
        return request, request.data

    request, ours = request_data(SubmissionMultiPartParser())
    _, django = request_data(MultiPartParser())
    assert type(ours) is QueryDict and ours._mutable
    assert [(k, v) for k, v in ours.lists() if k != "card_photo"] == [
        (k, v) for k, v in django.lists() if k != "card_photo"
    ]
    assert ours["card_photo"].read() == django["card_photo"].read()
    ours.appendlist("job_position", "另一个")
    assert request.POST.getlist("job_position") == ["数控车床操作工"]  # not shared
    assert request._request.POST is request.POST and "card_photo" in request._request.FILES


def test_a_browser_form_with_chinese_repeats_and_an_empty_file_input_parses_as_django_does():
    body = multipart_body(
        part("job_position", "数控车床操作工"),
        part("bank_branch", "中国工商银行广州天河支行（营业部）"),
        part("tag", "一"),
        part("tag", "二"),
        part("empty", ""),
        part("card_photo", image_bytes(), filename="银行卡.jpg", content_type="image/jpeg"),
        part("extra_photo", b"", filename="", content_type="application/octet-stream"),
        part("note", "多行\r\n文字", content_type="text/plain; charset=utf-8"),
    )
    data, files, _ = assert_same_as_django(body)
    assert dict(data)["tag"] == ["一", "二"]
    assert dict(data)["extra_photo"] == [""]  # an empty file input is an empty field
    assert list(files) == ["card_photo"] and files["card_photo"][0][1] == "银行卡.jpg"


def test_file_names_and_odd_parts_parse_as_django_does():
    jpeg = image_bytes("PNG")
    body = multipart_body(
        part("a", jpeg, filename="C:\\fakepath\\card.png", content_type="image/png"),
        part("a", b"second", filename="../../etc/passwd", content_type="Text/Plain; charset=GBK"),
        part("dropped", b"x", filename="..", content_type="image/jpeg"),
        part("b", b"no type", filename="b.bin"),
        b"Content-Disposition: form-data; name=\"c\"; filename*=UTF-8''%E5%8D%A1.jpg\r\n\r\nc",
        part(
            "d",
            base64.b64encode("编号".encode()),
            extra_headers=["Content-Transfer-Encoding: base64"],
        ),
        part(
            "e",
            base64.b64encode(b"\x00\x01"),
            filename="e.bin",
            extra_headers=["Content-Transfer-Encoding: base64"],
        ),
    )
    data, files, _ = assert_same_as_django(body)
    assert [f[1] for f in files["a"]] == ["card.png", "passwd"]
    assert files["c"][0][1] == "卡.jpg" and files["e"][0][6] == b"\x00\x01"
    assert dict(data)["d"] == ["编号"] and "dropped" not in files


# -- through the endpoint ------------------------------------------------------------------


def post_raw(api, body, ctype=None):
    return api.generic("POST", URL, body, content_type=ctype or content_type())


def submission_parts(**overrides):
    fields = form_data(**overrides)
    return [part(k, v) for k, v in fields.items()] + [
        part("card_photo", image_bytes(), filename="card.jpg", content_type="image/jpeg")
    ]


@pytest.mark.django_db
def test_a_raw_multipart_submission_is_accepted(api, applicant, campaign):
    r = post_raw(api, multipart_body(*submission_parts()))
    assert r.status_code == 201, r.json()
    assert Application.objects.get().job_position == "数控车床操作工"
    assert r.wsgi_request._stream.read() == b""  # read to its end: the connection can stay


def _valid_body():
    return multipart_body(*submission_parts())


MALFORMED = {
    "no_boundary": (_valid_body, "multipart/form-data"),
    "invalid_boundary": (_valid_body, "multipart/form-data; boundary=\x7f"),
    "wrong_boundary": (_valid_body, content_type("not-the-one")),
    "truncated": (lambda: _valid_body()[:-300], None),
    "no_final_boundary": (lambda: _valid_body().rsplit(b"--", 2)[0], None),
    "header_without_colon": (
        lambda: multipart_body(
            *submission_parts(), b'Content-Disposition form-data; name="x"\r\n\r\nx'
        ),
        None,
    ),
    "no_content_disposition": (
        lambda: multipart_body(*submission_parts(), b"Content-Type: text/plain\r\n\r\nx"),
        None,
    ),
    "no_name": (
        lambda: multipart_body(*submission_parts(), b"Content-Disposition: form-data\r\n\r\nx"),
        None,
    ),
    "attachment_disposition": (
        lambda: multipart_body(
            *submission_parts(), b'Content-Disposition: attachment; name="x"\r\n\r\nx'
        ),
        None,
    ),
    "field_not_utf8": (
        lambda: multipart_body(
            *submission_parts(job_position=None), part("job_position", "数控车床".encode("gbk"))
        ),
        None,
    ),
    "bad_base64_file": (
        lambda: multipart_body(
            *submission_parts()[:-1],
            part(
                "card_photo",
                b"abc",
                filename="c.jpg",
                extra_headers=["Content-Transfer-Encoding: base64"],
            ),
        ),
        None,
    ),
    "not_multipart_at_all": (lambda: b"kind=enrollment&job_position=x", None),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_body_is_a_400_parse_error(api, applicant, campaign, case):
    make_body, ctype = MALFORMED[case]
    r = post_raw(api, make_body(), ctype)
    assert r.status_code == 400, r.content
    assert r.json() == {"code": "parse_error", "detail": "请求格式错误"}
    assert Application.objects.count() == 0


@pytest.mark.django_db
def test_json_is_not_accepted_on_the_submission(api, applicant, campaign):
    r = api.post(URL, form_data(), format="json")
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"


@pytest.mark.django_db
def test_too_many_fields_are_refused(api, applicant, campaign, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = len(form_data())
    assert post_raw(api, multipart_body(*submission_parts())).status_code == 201
    Application.objects.all().delete()
    r = post_raw(api, multipart_body(*submission_parts(), part("one_more", "x")))
    assert r.status_code == 400 and r.json()["code"] == "too_many_fields"


@pytest.mark.django_db
def test_too_many_files_are_refused(api, applicant, campaign, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 1
    second = part("card_photo", image_bytes(), filename="again.jpg", content_type="image/jpeg")
    r = post_raw(api, multipart_body(*submission_parts(), second))
    assert r.status_code == 400 and r.json()["code"] == "too_many_files"


@pytest.mark.django_db
def test_field_data_over_the_memory_limit_is_refused_but_the_photo_does_not_count(
    api, applicant, campaign, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # the fields fit, the photo (~5 KB) is a file
    assert post_raw(api, multipart_body(*submission_parts())).status_code == 201
    Application.objects.all().delete()
    r = post_raw(api, multipart_body(*submission_parts(job_position="岗" * 400)))
    assert r.status_code == 400 and r.json()["code"] == "data_too_large"


@pytest.mark.django_db
def test_a_photo_too_large_to_keep_in_memory_still_gets_photo_too_large(
    api, applicant, campaign, settings
):
    """Over FILE_UPLOAD_MAX_MEMORY_SIZE the body goes through Django's parser (spooled to a
    temporary file): the answer is the form's, as for a 6 MB photo."""
    big = b"\xff\xd8" + b"0" * (settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1)
    r = post_application(api, card_photo=photo("big.jpg", big))
    assert r.status_code == 400 and r.json()["code"] == "photo_too_large"


@pytest.mark.django_db
def test_a_body_over_the_memory_threshold_is_parsed_by_django_with_the_same_limits(
    api, applicant, campaign, settings
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000  # every submission goes the large-body way
    assert post_application(api).status_code == 201
    Application.objects.all().delete()
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    r = post_application(api)
    assert r.status_code == 400 and r.json()["code"] == "too_many_fields"


def test_encode_multipart_of_the_test_client_parses_as_django_does():
    """What APIClient(format="multipart") sends, as in the other API tests."""
    data = {**form_data(), "card_photo": photo(), "tags": ["一", "二"]}
    body = encode_multipart(BOUNDARY, data)
    assert_same_as_django(body)


def test_the_schema_documents_the_submission_as_multipart_only():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    body = schema["paths"][URL]["post"]["requestBody"]
    assert list(body["content"]) == ["multipart/form-data"]
