"""The multipart parser of the submission endpoint (`POST /api/v1/applications/`).

Django's MultiPartParser — DRF's, underneath — spends ~1.8 ms of CPU on one submission
(twelve short fields and a 150 KB card photo) in its chunked stream machinery; this parser,
on `multipart`'s PushMultipartParser (one `bytes.find` per part over the body read at once),
spends ~0.35 ms — of the ~19 ms a submission cost in the opening rush then (bench_intake;
~5 ms now).

The result is what DRF's MultiPartParser gives: `DataAndFiles(QueryDict, MultiValueDict)`,
uploads as InMemoryUploadedFile, file names sanitized by Django's own method, an empty file
input (`filename=""`) as an empty field, and Django's limits (DATA_UPLOAD_MAX_MEMORY_SIZE for
the fields, DATA_UPLOAD_MAX_NUMBER_FIELDS, DATA_UPLOAD_MAX_NUMBER_FILES), answered with our
`{"code", "detail"}`. It is stricter where Django guesses: a body that is not well-formed
multipart (no or wrong boundary, truncated, a part without Content-Disposition or name, a
field that is not UTF-8) is a 400 `parse_error`, never a half-read form.

The body is held in memory only up to FILE_UPLOAD_MAX_MEMORY_SIZE, the size up to which
Django too keeps an upload in memory. A larger body (a photo far over 5 MB) goes through
Django's parser, which spools it to a temporary file, so it still gets `photo_too_large`.
"""

import base64
import binascii
import io

import multipart
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.http import QueryDict
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.utils.datastructures import MultiValueDict
from django.utils.http import parse_header_parameters
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, DataAndFiles, MultiPartParser

from subsidy.api.errors import ApiError


def _sanitize_file_name(name: str) -> str | None:
    # Django's method uses no instance state; calling it keeps the two parsers identical.
    return DjangoMultiPartParser.sanitize_file_name(None, name)


class SubmissionMultiPartParser(BaseParser):
    media_type = "multipart/form-data"

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context["request"]
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            length = int(request.META.get("CONTENT_LENGTH", 0))
        except (ValueError, TypeError):
            length = 0
        try:
            if length > settings.FILE_UPLOAD_MAX_MEMORY_SIZE:
                return MultiPartParser().parse(stream, media_type, parser_context)
            return _parse(stream, media_type or "", length, encoding)
        except TooManyFieldsSent:
            raise ApiError("too_many_fields", "提交的项目过多")
        except TooManyFilesSent:
            raise ApiError("too_many_files", "上传的文件过多")
        except RequestDataTooBig:
            raise ApiError("data_too_large", "填写的内容过长")


def _boundary(media_type: str) -> str:
    if not media_type.startswith("multipart/") or not media_type.isascii():
        raise ParseError(f"Invalid Content-Type: {media_type}")
    _, options = multipart.parse_options_header(media_type)
    boundary = options.get("boundary")
    if not boundary or not DjangoMultiPartParser.boundary_re.fullmatch(boundary):
        raise ParseError(f"Invalid boundary in multipart: {boundary}")
    return boundary


def _read(stream, length: int) -> bytes:
    """Up to `length` bytes: a WSGI input may return fewer per read than asked for."""
    chunks, received = [], 0
    while received < length:
        chunk = stream.read(length - received)
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
    return b"".join(chunks)


def _parse(stream, media_type: str, length: int, encoding: str) -> DataAndFiles:
    boundary = _boundary(media_type)
    if length < 0:
        raise ParseError(f"Invalid content length: {length!r}")
    body = _read(stream, length)
    form = _Form(encoding)
    segment, file_name, chunks = None, None, []
    try:
        with multipart.PushMultipartParser(boundary, len(body), strict=True) as parser:
            for event in parser.parse(body):
                if event is None:
                    form.add(segment, file_name, b"".join(chunks))
                elif isinstance(event, multipart.MultipartSegment):
                    segment, chunks = event, []
                    file_name = form.start(segment)
                else:
                    chunks.append(event)
    except multipart.MultipartError as exc:
        raise ParseError(f"Multipart form parse error - {exc}")
    return DataAndFiles(form.query_dict(), form.files)


class _Form:
    """The parts of one body, counted and kept the way Django's MultiPartParser does."""

    def __init__(self, encoding: str):
        self.encoding = encoding
        self.fields: dict[str, list[str]] = {}  # a QueryDict at the end: cheaper to fill
        self.files = MultiValueDict()
        self.field_count = self.file_count = self.field_bytes = 0
        self.max_fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        self.max_files = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        self.max_field_bytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def start(self, segment) -> str | None:
        """Count a part at its headers, before its content is kept; return its file name
        (None for a field)."""
        file_name = _file_name(segment)
        if file_name:
            self.file_count += 1
            if self.max_files is not None and self.file_count > self.max_files:
                raise TooManyFilesSent("The number of files exceeded DATA_UPLOAD_MAX_NUMBER_FILES.")
        else:
            self.field_count += 1
            if self.max_fields is not None and self.field_count > self.max_fields:
                raise TooManyFieldsSent(
                    "The number of GET/POST parameters exceeded DATA_UPLOAD_MAX_NUMBER_FIELDS."
                )
        return file_name

    def add(self, segment, file_name: str | None, content: bytes):
        name = segment.name.strip()
        base64_encoded = (segment.header("Content-Transfer-Encoding") or "").strip() == "base64"
        if not file_name:
            self.add_field(name, content, base64_encoded)
            return
        file_name = _sanitize_file_name(file_name)
        if not file_name:  # "..", "/" …: Django drops the part
            return
        if base64_encoded:
            try:
                content = base64.b64decode(b"".join(content.split()))
            except (binascii.Error, ValueError):
                raise ParseError("Could not decode base64 data.")
        content_type, extra = "", {}
        if raw := segment.header("Content-Type"):
            try:
                content_type, params = parse_header_parameters(raw)
            except ValueError as exc:
                raise ParseError(f"Invalid Content-Type of {name!r}: {exc}")
            extra = {k: v.encode() for k, v in params.items()}
        self.files.appendlist(
            name,
            InMemoryUploadedFile(
                file=io.BytesIO(content),
                field_name=name,
                name=file_name,
                content_type=content_type,
                size=len(content),
                charset=extra.get("charset"),
                content_type_extra=extra,
            ),
        )

    def add_field(self, name: str, content: bytes, base64_encoded: bool):
        if base64_encoded:
            try:
                content = base64.b64decode(content)
            except binascii.Error:
                pass  # kept as sent, as Django does
        # + 2 for "&=", as Django counts it to match the urlencoded limit
        self.field_bytes += len(content) + len(name) + 2
        if self.max_field_bytes is not None and self.field_bytes > self.max_field_bytes:
            raise RequestDataTooBig("Request body exceeded DATA_UPLOAD_MAX_MEMORY_SIZE.")
        try:
            value = content.decode(self.encoding)
        except UnicodeDecodeError:
            raise ParseError(f"Field {name!r} is not {self.encoding}")
        self.fields.setdefault(name, []).append(value)

    def query_dict(self) -> QueryDict:
        data = _FieldsQueryDict(mutable=True, encoding=self.encoding)
        for name, values in self.fields.items():
            # str already: QueryDict.setlist's per-value bytes_to_text would be a no-op
            MultiValueDict.setlist(data, name, values)
        data._mutable = False
        return data


class _FieldsQueryDict(QueryDict):
    """The parsed fields. DRF copies them once per request to merge the files into
    `request.data`; QueryDict.copy() is a deepcopy (~0.15 ms here), needless for lists of
    str — immutable values — so the lists alone are copied. The copy is a plain QueryDict."""

    def copy(self):
        result = QueryDict(mutable=True, encoding=self.encoding)
        for name, values in self.lists():
            MultiValueDict.setlist(result, name, list(values))
        return result


def _file_name(segment) -> str | None:
    # Django takes a part for a file by a non-empty `filename`, RFC 2231's `filename*`
    # included (which the fast path of `multipart` does not read).
    if segment.filename is None:
        disposition = segment.header("Content-Disposition", "")
        if "filename*" in disposition:
            try:
                return parse_header_parameters(disposition)[1].get("filename")
            except ValueError as exc:
                raise ParseError(f"Invalid Content-Disposition: {exc}")
    return segment.filename


class JSONParser(parsers.JSONParser):
    """DRF's, with JSON nested deeper than Python's recursion limit (`[[[[…]]]]`, a thousand
    levels) answered as a parse error (400) instead of a RecursionError (500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply")
