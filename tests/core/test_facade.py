"""The bridge core talks to QQ through one door, ``bridge.qq.client``: it never reaches into
the wire codec or the protocol's code tables (issue 13: data flows one way)."""

from __future__ import annotations

import ast
from pathlib import Path

import bridge

BRIDGE = Path(bridge.__file__).parent
# The core: bridge/*.py and the commands. The QQ side, the demo and the tools are not core.
CORE = sorted([*BRIDGE.glob("*.py"), *(BRIDGE / "commands").glob("*.py")])
FORBIDDEN = ("bridge.qq.wire", "bridge.qq.codes")


def _imported_modules(path: Path) -> set[str]:
    package = ".".join(["bridge", *path.relative_to(BRIDGE).parent.parts])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_the_core_is_found() -> None:
    names = {path.name for path in CORE}
    assert {"inbound.py", "user.py", "login.py", "contacts.py", "account.py"} <= names


def test_the_core_imports_nothing_of_the_wire() -> None:
    offenders = {
        f"{path.relative_to(BRIDGE.parent)}: {module}"
        for path in CORE
        for module in _imported_modules(path)
        if module.startswith(FORBIDDEN)
    }
    assert offenders == set()


def test_the_check_sees_relative_imports() -> None:
    inbound = _imported_modules(BRIDGE / "inbound.py")
    assert "bridge.qq.client" in inbound
    contacts = _imported_modules(BRIDGE / "commands" / "contacts.py")
    assert "bridge.qq.client.AddResult" in contacts
    events = _imported_modules(BRIDGE / "e2ee" / "events.py")
    assert "bridge.portal_members.CLEAR_ROOM_REFUSED" in events


def test_the_event_router_imports_no_command() -> None:
    """matrix.py and what it routes memberships and encrypted events to depend on nothing of
    what the commands do (friend answers are User's); the commands are handed over by app.py."""
    routing = [BRIDGE / "matrix.py", BRIDGE / "membership.py", BRIDGE / "portal_members.py"]
    routing.append(BRIDGE / "e2ee" / "events.py")
    offenders = {
        f"{path.name}: {module}"
        for path in routing
        for module in _imported_modules(path)
        if module.startswith("bridge.commands")
    }
    assert offenders == set()
