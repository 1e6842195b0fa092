"""The errors innoplat reports to users: each says what is wrong, never with a traceback."""

from __future__ import annotations

# gunicorn stops on this error class instead of restarting workers (see StartupFailed).
from gunicorn.errors import AppImportError


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


class DatabaseUnavailable(InnoplatError):
    """The database cannot be opened: a SQLite file in a folder that does not exist, a server
    that refuses the connection or is down. The message names the database and the cause."""


class DatabaseNotReady(InnoplatError):
    """The database opens but does not hold this version's schema: no innoplat tables at all, or
    tables at another revision than the code's migrations. The message says what to run."""


class StartupFailed(InnoplatError, AppImportError):
    """An app cannot start: a broken city.toml or plugin, no secret key, no site address.

    The one way start-up fails, whoever starts the app: ``create_app`` and
    ``create_sites_app`` raise it, with one line saying what to fix. ``innoplat serve`` prints
    that line as ``Error: …`` (exit status 1, like every command); gunicorn, for which it is an
    ``AppImportError``, prints the line and stops ("App failed to load") instead of starting
    workers over and over. ``error`` is the underlying error, when there is one.
    """

    def __init__(self, error: InnoplatError | str) -> None:
        self.error = error if isinstance(error, InnoplatError) else None
        super().__init__(str(error))
