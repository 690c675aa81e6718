"""The exception hierarchy shared by every layer.

Each class carries its CLI exit code and HTTP status; messages are turned into
output only at the CLI and HTTP boundaries (web/).
"""

from __future__ import annotations

from typing import Any


class MadoguchiError(Exception):
    """Base of every error Madoguchi raises on purpose."""

    exit_code: int = 1
    http_status: int = 500
    code: str = "error"

    def __init__(self, message: str, **data: Any) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def __str__(self) -> str:
        return self.message


# --- catalogue and packs -------------------------------------------------------------


class CatalogueError(MadoguchiError):
    """A form declaration or program pack is invalid (names the file and the field)."""

    exit_code = 3
    code = "catalogue_invalid"


class UnknownForm(MadoguchiError):
    exit_code = 2
    http_status = 404
    code = "unknown_form"


class UnknownProgram(MadoguchiError):
    exit_code = 2
    http_status = 404
    code = "unknown_program"


class AddressUnavailable(MadoguchiError):
    """``madoguchi serve`` cannot listen there: another program holds the address, or the
    host name does not resolve."""

    exit_code = 2
    code = "address_unavailable"


# --- bad input -----------------------------------------------------------------------


class InputError(MadoguchiError):
    """The submitted file cannot be read. Always the user's file, never our bug."""

    exit_code = 2
    http_status = 422
    code = "bad_input"


class UnsupportedFileType(InputError):
    http_status = 415
    code = "unsupported_type"


class EmptyFile(InputError):
    code = "empty_file"


class FileTooLarge(InputError):
    http_status = 413
    code = "too_large"


class TooManyPages(InputError):
    http_status = 413
    code = "too_many_pages"


class CorruptFile(InputError):
    code = "corrupt_file"


class ImageTooSmall(InputError):
    """An image with too few pixels to hold a page of text (a thumbnail, an icon)."""

    code = "image_too_small"


class EncryptedFile(InputError):
    code = "encrypted_file"


class NoPages(InputError):
    code = "no_pages"


class ZipBomb(InputError):
    code = "zip_bomb"


class PageTooLarge(InputError):
    """A page too large (or too small) to render or read: its size, in points or pixels, past
    what any form can be."""

    http_status = 413
    code = "page_too_large"


class TooComplex(InputError):
    """A page with more in it than any form holds (thousands of form fields, an image of
    billions of pixels): refused before the work, not after it."""

    http_status = 413
    code = "too_complex"


class BudgetExceeded(InputError):
    """Reading the document would take more time or memory than its budget allows
    (``MADOGUCHI_BUDGET``, ``--budget``)."""

    http_status = 413
    code = "over_budget"


class InvalidRecord(InputError):
    """A record given to generate/check is not what the command needs."""

    code = "invalid_record"


# --- external programs ---------------------------------------------------------------


class ExternalProgramError(MadoguchiError):
    exit_code = 4
    http_status = 503
    code = "external_program"


class ProgramMissing(ExternalProgramError):
    code = "program_missing"


class ProgramTimeout(ExternalProgramError):
    code = "program_timeout"


class ProgramFailed(ExternalProgramError):
    code = "program_failed"
