"""The plugin manager: entry-point discovery, per-city enabling, and hook calls that name their culprit."""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import inspect
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType, TracebackType
from typing import Any

import pluggy

from . import hookspecs
from .config import CityDefinition
from .errors import PluginError

ENTRY_POINT_GROUP = "innoplat"
LOCAL_PLUGIN_FILE = "plugin.py"


def installed_plugins() -> dict[str, EntryPoint]:
    """Every plugin installed in this environment, built-in and third-party alike."""
    return {
        ep.name: ep for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
    }


def _load(entry_point: EntryPoint) -> Any:
    try:
        return entry_point.load()
    except Exception as exc:  # a broken third-party package must not hide which one it is
        raise PluginError(entry_point.name, f"cannot be imported: {exc}") from exc


def new_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    return manager


def _check(manager: pluggy.PluginManager) -> None:
    known = [n for n in dir(hookspecs) if n.startswith("innoplat_")]
    for hook_name in dir(manager.hook):
        caller = getattr(manager.hook, hook_name)
        if not hook_name.startswith("_") and not caller.has_spec():
            culprits = [impl.plugin_name for impl in caller.get_hookimpls() if not impl.hookwrapper]
            close = difflib.get_close_matches(hook_name, known, n=1)
            hint = (
                f" (did you mean {close[0]!r}?)"
                if close
                else " (docs/hooks.md lists the hooks that exist)"
            )
            raise PluginError(
                culprits[0] if culprits else None, f"unknown hook {hook_name!r}{hint}"
            )
    manager.check_pending()


def _register(manager: pluggy.PluginManager, plugin: Any, name: str) -> None:
    try:
        manager.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(name, str(exc)) from None


def build_manager(city: CityDefinition, extra: Sequence[Any] = ()) -> pluggy.PluginManager:
    """One plugin manager for one city's app: the plugins it enables, and its own plugin.py.

    Hooks are called in the one precedence order of docs/hooks.md: the city's own plugin,
    then the enabled plugins in the order the city lists them, then ``extra`` plugins (tests)
    in their order. pluggy calls the most recently registered implementation first, so they
    are registered the other way round.
    """
    manager = new_manager()
    available = installed_plugins()
    for i, name in enumerate(city.config.plugins.enabled):
        if name not in available:
            raise PluginError(
                name,
                f"is enabled in {city.file} (plugins.enabled[{i}]) but not installed; "
                f"installed plugins: {', '.join(available) or 'none'}",
            )
    for plugin in reversed(extra):
        _register(manager, plugin, getattr(plugin, "__name__", None) or type(plugin).__name__)
    for name in reversed(city.config.plugins.enabled):
        _register(manager, _load(available[name]), name)
    local = load_local_plugin(city)
    if local is not None:
        _register(manager, local, f"city:{city.slug}")
    _check(manager)
    validate_settings(manager, city)
    return manager


def all_plugins_manager() -> pluggy.PluginManager:
    """A manager holding every installed plugin: their commands, their migrations."""
    manager = new_manager()
    for name, entry_point in installed_plugins().items():
        _register(manager, _load(entry_point), name)
    _check(manager)
    return manager


def load_local_plugin(city: CityDefinition) -> ModuleType | None:
    """A city folder's own ``plugin.py``, found by path like pytest's conftest.py."""
    path = city.folder / LOCAL_PLUGIN_FILE
    if not path.is_file():
        return None
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    module_name = f"innoplat_city_{city.slug.replace('-', '_')}_plugin_{digest}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise PluginError(f"city:{city.slug}", f"{path} cannot be imported: {exc}") from exc
    sys.modules[module_name] = module
    return module


def settings_problems(manager: pluggy.PluginManager, city: CityDefinition) -> dict[str, list[str]]:
    """Each enabled plugin's verdict on its own settings, by plugin name."""
    problems: dict[str, list[str]] = {}
    for name in city.config.plugins.enabled:
        plugin = manager.get_plugin(name)
        if plugin is None:
            continue
        others = [p for p in manager.get_plugins() if p is not plugin]
        caller = manager.subset_hook_caller("innoplat_validate_settings", remove_plugins=others)
        found = [
            p
            for result in caller(settings=city.config.plugins.settings(name), city=city)
            for p in result or []
        ]
        if found:
            problems[name] = found
    return problems


def validate_settings(manager: pluggy.PluginManager, city: CityDefinition) -> None:
    for name, found in settings_problems(manager, city).items():
        raise PluginError(name, f"{city.file}: plugins.{name}.{found[0]}")


def implemented_hooks(manager: pluggy.PluginManager, plugin: Any) -> list[str]:
    return sorted(caller.name for caller in manager.get_hookcallers(plugin) or [])


@dataclass
class Hooks:
    """Calls hooks so that an exception inside a plugin names the plugin and the hook.

    Implementations are called in precedence order (see ``build_manager``) and the results
    come back in that order.

    Services find it in ``session.info["innoplat.hooks"]``; a session without one calls no hooks.
    """

    manager: pluggy.PluginManager | None = None

    def __getattr__(self, hook_name: str) -> Any:
        if not hook_name.startswith("innoplat_"):
            raise AttributeError(hook_name)

        def call(**kwargs: Any) -> list[Any]:
            if self.manager is None:
                return []
            caller = getattr(self.manager.hook, hook_name)
            try:
                result = caller(**kwargs)
            except PluginError:
                raise
            except Exception as exc:
                culprit = self._culprit(exc.__traceback__)
                raise PluginError(
                    culprit, f"failed in {hook_name}: {type(exc).__name__}: {exc}"
                ) from exc
            return result if isinstance(result, list) else [result]

        return call

    def each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation of ``hook_name`` on its own, in precedence order, for a
        caller that says which plugin did what: ``(plugin name, result)`` pairs. An exception
        inside one names that plugin and the hook, as every other hook call does."""
        if self.manager is None:
            return []
        caller = getattr(self.manager.hook, hook_name)
        plugins = self.manager.get_plugins()
        answers: list[tuple[str, Any]] = []
        for impl in reversed(caller.get_hookimpls()):  # pluggy calls the last registered first
            alone = self.manager.subset_hook_caller(
                hook_name, remove_plugins=[p for p in plugins if p is not impl.plugin]
            )
            try:
                result = alone(**kwargs)
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(
                    impl.plugin_name, f"failed in {hook_name}: {type(exc).__name__}: {exc}"
                ) from exc
            answers.append((impl.plugin_name, result[0] if result else None))
        return answers

    def _culprit(self, tb: TracebackType | None) -> str | None:
        if self.manager is None:
            return None
        modules = {}
        for plugin in self.manager.get_plugins():
            module = inspect.getmodule(plugin) if not isinstance(plugin, ModuleType) else plugin
            if module is not None:
                modules[module.__name__] = self.manager.get_name(plugin)
        culprit = None
        while tb is not None:
            module_name = tb.tb_frame.f_globals.get("__name__", "")
            for prefix, name in modules.items():
                if module_name == prefix or module_name.startswith(prefix + "."):
                    culprit = name
            tb = tb.tb_next
        return culprit


HOOKS_KEY = "innoplat.hooks"


def hooks_of(session: Any) -> Hooks:
    return session.info.get(HOOKS_KEY) or Hooks()
