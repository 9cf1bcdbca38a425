"""Why an image failed: img2dataset's error message -> a short reason (pure rule + its Spark form).

``failure_reason`` is the rule; ``failure_reason_columns`` computes exactly the same in Spark
columns for the status table (a test keeps the two equal on every rule).
"""

from __future__ import annotations

import re

# Error message (lower-cased substring) -> reason, first match wins. PRE_HTTP_RULES are tried
# before the HTTP status: urllib reports a redirect loop as "HTTP Error 301: The HTTP server
# returned a redirect error that would lead to an infinite loop...", which is no 301 answer.
# Then HTTP errors ("HTTP Error 404: Not Found") become http_<status>, then FAILURE_RULES.
# Messages come from curation.download.fetch (the fetcher the job uses) or img2dataset.
PRE_HTTP_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("redirect_loop", ("redirect loop", "infinite loop")),
)
FAILURE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("opt_out", ("x-robots-tag",)),
    ("hash_mismatch", ("hash mismatch",)),
    ("shard_deadline", ("shard deadline",)),
    ("timeout", ("timed out", "timeout")),
    ("empty_body", ("empty body", "!buf.empty()")),
    ("body_too_large", ("body too large",)),
    ("too_small", ("image too small",)),
    ("too_large", ("image area too large",)),
    ("bad_aspect_ratio", ("aspect ratio too large",)),
    ("decode_error", ("image decoding error",)),
    ("bad_url", ("unknown url type", "no host given", "control characters", "invalid url", "url refused")),
    ("ssl_error", ("ssl", "certificate")),
    ("connection_error", ("urlopen error", "connection", "remote end closed", "incompleteread",
                          "name or service not known", "name resolution", "reset by peer", "too many redirections",
                          "redirect")),
)
HTTP_ERROR = re.compile(r"^HTTP Error (\d{3})")
# Reasons that are not error messages.
OTHER_DOWNLOAD_ERROR, OTHER_RESIZE_ERROR = "download_error", "resize_error"
NO_URL, NOT_DOWNLOADED, MISSING_FROM_SHARD = "no_url", "not_downloaded", "missing_from_shard"


def failure_reason(status: str | None, error_message: str | None) -> tuple[str | None, int | None]:
    """``(reason, http_status)`` of one img2dataset result row; ``(None, None)`` for a success.

    ``status`` is img2dataset's ``success`` / ``failed_to_download`` / ``failed_to_resize``.
    The same rules run in Spark as ``failure_reason_columns`` (a test keeps them equal)."""
    if status == "success":
        return None, None
    message = error_message or ""
    lower = message.lower()
    for reason, needles in PRE_HTTP_RULES:
        if any(n in lower for n in needles):
            return reason, None
    http = HTTP_ERROR.match(message)
    if http:
        return f"http_{http.group(1)}", int(http.group(1))
    for reason, needles in FAILURE_RULES:
        if any(n in lower for n in needles):
            return reason, None
    return (OTHER_RESIZE_ERROR if status == "failed_to_resize" else OTHER_DOWNLOAD_ERROR), None


def failure_reason_columns(status, error_message):
    """Spark columns ``(reason, http_status)`` computing exactly ``failure_reason``."""
    from pyspark.sql import functions as F

    message = F.coalesce(error_message, F.lit(""))
    code = F.regexp_extract(message, HTTP_ERROR.pattern, 1)
    lower = F.lower(message)

    def hit(needles):
        found = F.lit(False)
        for n in needles:
            found = found | lower.contains(n)
        return found

    reason = F.when(status == "success", F.lit(None).cast("string"))
    pre_http = F.lit(False)
    for name, needles in PRE_HTTP_RULES:
        reason = reason.when(hit(needles), F.lit(name))
        pre_http = pre_http | hit(needles)
    reason = reason.when(code != "", F.concat(F.lit("http_"), code))
    for name, needles in FAILURE_RULES:
        reason = reason.when(hit(needles), F.lit(name))
    reason = reason.when(status == "failed_to_resize", F.lit(OTHER_RESIZE_ERROR)).otherwise(F.lit(OTHER_DOWNLOAD_ERROR))
    http_status = F.when((status != "success") & (code != "") & ~pre_http, code.cast("int"))
    return reason, http_status
