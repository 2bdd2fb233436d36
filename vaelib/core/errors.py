"""The one exception a learner should see: an expected mistake, told in one line that says what to do."""


class VAEError(Exception):
    """An expected mistake (bad flag, missing file, ...) whose message tells the learner how to fix it."""

    def _render_traceback_(self):
        """In Jupyter, show the one-line message instead of a traceback."""
        return [f"VAEError: {self}"]
