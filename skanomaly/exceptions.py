"""Exceptions raised by skanomaly."""

__all__ = ["TrainingDivergedError"]


class TrainingDivergedError(FloatingPointError, ValueError):
    """Training produced a NaN or infinite loss.

    A ``ValueError`` (the usual cause is input far outside the range the
    detector handles, or a learning rate far too high) and a
    ``FloatingPointError``. Raised by the deep detectors as soon as one loss
    term stops being finite,
    with the epoch and the name of the loss term in the message, so that a
    diverged model is never silently returned. Lower the learning rate, or the
    weight of the named loss term, and fit again.
    """
