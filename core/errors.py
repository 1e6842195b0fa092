"""The errors innoplat reports to users: each says what is wrong, never with a traceback."""

from __future__ import annotations


class InnoplatError(Exception):
    """Base of every error a user may see; its message is complete on its own."""


class ConfigError(InnoplatError):
    """A city's configuration is invalid: names the file, the key and what is expected."""

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {problem}")


class NotFound(InnoplatError):
    """Something the user named does not exist."""


class ValidationError(InnoplatError):
    """Bad input to a use case; ``field`` names the failing field."""

    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


class IllegalTransition(ValidationError):
    """The city's workflow does not allow moving an idea between these stages."""


class ConflictError(InnoplatError):
    """Someone else changed the record since it was read: nothing was overwritten."""

    def __init__(self, message: str, *, current_version: int | None = None) -> None:
        self.current_version = current_version
        super().__init__(message)


class ReadOnlyError(InnoplatError):
    """A peer city's data came from its own platform and cannot be edited here."""


class PluginError(InnoplatError):
    """A plugin is unknown, misconfigured, or raised inside a hook."""

    def __init__(self, plugin: str | None, message: str) -> None:
        self.plugin = plugin
        super().__init__(f"plugin {plugin!r}: {message}" if plugin else message)


class StartupFailed(SystemExit):
    """An app cannot start for its city: ends the process with one line, never a traceback.

    ``create_app`` raises it for a broken city.toml or plugin, so a WSGI server
    (``gunicorn 'innoplat.core.web:create_app(city="kiruna")'``) prints
    ``Error: cities/kiruna/city.toml: stages[0].phase: …`` and exits with status 1, as
    ``innoplat serve`` does. The original error is in ``error``.
    """

    def __init__(self, error: InnoplatError) -> None:
        self.error = error
        super().__init__(f"Error: {error}")
