"""Exceptions raised by azsecmap. Each names the file and the JSON path at fault."""

from __future__ import annotations

__all__ = [
    "AzsecmapError",
    "CatalogError",
    "EvaluationError",
    "ExemptionError",
    "PolicyError",
    "ResourceError",
]


class AzsecmapError(Exception):
    """Base class of every error azsecmap raises on bad input.

    Attributes:
        message: one-line description, lower-case start.
        pointer: JSON Pointer into the document at fault ("" for the whole document), if known.
        file: the file the document came from, if it came from a file.
    """

    def __init__(self, message: str, pointer: str | None = None, file: str | None = None) -> None:
        self.message = message
        self.pointer = pointer
        self.file = file
        super().__init__(message)

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.pointer:
            where.append(f"at {self.pointer}")
        return f"{self.message} ({', '.join(where)})" if where else self.message

    def with_file(self, file: str) -> AzsecmapError:
        """Set the file the failing document came from and return self."""
        self.file = file
        return self


class PolicyError(AzsecmapError):
    """A policy definition, or a parameter value given to it, cannot be used."""


class EvaluationError(PolicyError):
    """A (policy, resource) pair failed to evaluate, as Azure reports an evaluation error."""


class ResourceError(AzsecmapError):
    """A resource document cannot be read."""


class CatalogError(AzsecmapError):
    """A framework catalog or mapping file cannot be read."""


class ExemptionError(AzsecmapError):
    """A policy exemption or an exceptions file cannot be read."""
