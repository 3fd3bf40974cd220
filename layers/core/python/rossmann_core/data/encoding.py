"""A data file's bytes as the CSV parsers read them: gzip-compressed content opened, a UTF-8 byte-order mark (what
Excel's "CSV UTF-8" writes) dropped, and anything that is not UTF-8 refused with the file, line and reason."""

import gzip
import zlib

from rossmann_core.errors import DataValidationError

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"


def plain_bytes(data: bytes, source: str) -> bytes:
    """``data`` uncompressed (if gzip), without a BOM, checked to be UTF-8; DataValidationError naming ``source``."""
    if data.startswith(GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            reason = f"looks gzip-compressed but cannot be opened: {error}"
            raise DataValidationError(source, None, None, reason) from None
    data = data.removeprefix(UTF8_BOM)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start : error.start + 1].hex()
        raise DataValidationError(source, line, None, f"byte 0x{byte} is not UTF-8 text (save the file as UTF-8 or "
                                                      "plain ASCII)") from None
    return data


def text_of(data: bytes, source: str) -> str:
    """:func:`plain_bytes` as text."""
    return plain_bytes(data, source).decode("utf-8")
