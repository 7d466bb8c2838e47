"""Rule expressions: CEL (cel-python) semantics, with a fast path for common shapes.

Every target expression is parsed by cel-python once. Its syntax tree is then compiled
into plain Python closures for the shapes routing rules use all the time (member access,
map/list indexing, comparisons of ints or strings, ``in``, ``&&``, ``||``, ``!``, the
``all``/``exists`` macros). Whenever the fast path meets something it cannot decide with
certainty (a type mix, an unsupported construct), it hands the pair to cel-python itself,
so the result is always the one CEL gives. An expression is true only when CEL yields the
boolean ``true``; an evaluation error or a non-boolean result counts as "not eligible".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import celpy
import lark
from celpy import celtypes
from celpy.adapter import json_to_cel

from .model import AGENT_FIELDS, INTERACTION_FIELDS, RouterError

_ENV = celpy.Environment()


class _NeedCEL(Exception):
    """The fast path cannot decide; ask cel-python."""


class _Err:
    """A CEL evaluation error travelling through ``&&``/``||`` (absorbed or not)."""


_ERR = _Err()
Env = dict[str, Any]
Fn = Callable[[Env], Any]


def _tok(node: Any) -> str:
    return str(node.value) if isinstance(node, lark.Token) else ""


class _Compiler:
    def __init__(self, source: str) -> None:
        self.source = source
        self.interaction_fields: set[str] = set()
        self.agent_fields: set[str] = set()

    # -- validation walk ------------------------------------------------------------
    def check(self, tree: lark.Tree[Any], bound: frozenset[str]) -> None:
        data = str(tree.data)
        if data == "member_dot_arg" and _tok(tree.children[1]) in ("all", "exists",
                                                                   "exists_one", "map",
                                                                   "filter"):
            self.check(tree.children[0], bound)
            args = tree.children[2].children
            var = self._ident_of(args[0])
            inner = bound | {var} if var else bound
            for a in args[1:]:
                self.check(a, inner)
            return
        if data == "member_dot":
            base = tree.children[0]
            name = _tok(tree.children[1])
            root = self._ident_of(base)
            if root in ("agent", "interaction") and root not in bound:
                self._field(root, name)
                return
        if data == "ident":
            name = _tok(tree.children[0])
            if name not in ("agent", "interaction") and name not in bound:
                raise RouterError(f"unknown name {name!r} in {self.source!r}")
            if name == "interaction":
                self.interaction_fields.add("*")
            if name == "agent":
                self.agent_fields.add("*")
        for ch in tree.children:
            if isinstance(ch, lark.Tree):
                self.check(ch, bound)

    def _field(self, root: str, name: str) -> None:
        known = AGENT_FIELDS if root == "agent" else INTERACTION_FIELDS
        if name not in known:
            raise RouterError(f"unknown attribute {root}.{name} in {self.source!r}")
        (self.agent_fields if root == "agent" else self.interaction_fields).add(name)

    def _ident_of(self, node: Any) -> str:
        """The bare identifier a chain of single-child nodes ends in, or ''."""
        while isinstance(node, lark.Tree):
            if str(node.data) == "ident":
                return _tok(node.children[0])
            if len(node.children) != 1:
                return ""
            node = node.children[0]
        return ""

    # -- fast compilation -----------------------------------------------------------
    def fast(self, node: Any) -> Fn:
        if not isinstance(node, lark.Tree):
            raise _NeedCEL
        data = str(node.data)
        ch = node.children
        if len(ch) == 1 and data in (
            "expr", "conditionalor", "conditionaland", "relation", "addition",
            "multiplication", "unary", "member", "primary",
        ):
            return self.fast(ch[0])
        if data == "conditionalor":
            return _or(self.fast(ch[0]), self.fast(ch[1]))
        if data == "conditionaland":
            return _and(self.fast(ch[0]), self.fast(ch[1]))
        if data == "relation" and len(ch) == 2 and isinstance(ch[0], lark.Tree):
            op = str(ch[0].data)
            if op.startswith("relation_") and len(ch[0].children) == 1:
                left = self.fast(ch[0].children[0])
                return _relation(op[len("relation_"):], left, self.fast(ch[1]))
        if data == "unary" and len(ch) == 2 and str(getattr(ch[0], "data", "")) == "unary_not":
            return _not(self.fast(ch[1]))
        if data == "paren_expr":
            return self.fast(ch[0])
        if data == "ident":
            name = _tok(ch[0])
            return lambda env: env[name]
        if data == "literal":
            return _literal(ch[0])
        if data == "list_lit":
            items = [self.fast(e) for e in ch[0].children] if ch else []
            return lambda env: tuple(f(env) for f in items)
        if data == "member_dot":
            return _dot(self.fast(ch[0]), _tok(ch[1]))
        if data == "member_index":
            return _index(self.fast(ch[0]), self.fast(ch[1]))
        if data == "member_dot_arg" and _tok(ch[1]) in ("all", "exists"):
            args = ch[2].children
            if len(args) != 2:
                raise _NeedCEL
            var = self._ident_of(args[0])
            if not var:
                raise _NeedCEL
            return _macro(_tok(ch[1]), self.fast(ch[0]), var, self.fast(args[1]))
        raise _NeedCEL


def _literal(tok: Any) -> Fn:
    kind = str(getattr(tok, "type", ""))
    text = str(tok)
    value: Any
    if kind == "INT_LIT":
        value = int(text, 0)
    elif kind == "BOOL_LIT":
        value = text == "true"
    elif kind == "STRING_LIT":
        if (
            len(text) >= 2
            and text[0] == text[-1]
            and text[0] in "'\""
            and "\\" not in text
            and not text.startswith(("'''", '"""'))
        ):
            value = text[1:-1]
        else:
            raise _NeedCEL
    else:
        raise _NeedCEL
    return lambda env: value


def _or(a: Fn, b: Fn) -> Fn:
    def f(env: Env) -> Any:
        x = a(env)
        if x is True:
            return True
        y = b(env)
        if y is True:
            return True
        if x is False and y is False:
            return False
        if (x is False or x is _ERR) and (y is False or y is _ERR):
            return _ERR
        raise _NeedCEL

    return f


def _and(a: Fn, b: Fn) -> Fn:
    def f(env: Env) -> Any:
        x = a(env)
        if x is False:
            return False
        y = b(env)
        if y is False:
            return False
        if x is True and y is True:
            return True
        if (x is True or x is _ERR) and (y is True or y is _ERR):
            return _ERR
        raise _NeedCEL

    return f


def _not(a: Fn) -> Fn:
    def f(env: Env) -> Any:
        x = a(env)
        if x is True:
            return False
        if x is False:
            return True
        if x is _ERR:
            return _ERR
        raise _NeedCEL

    return f


_SCALARS = (int, str, bool)


def _relation(op: str, a: Fn, b: Fn) -> Fn:
    if op == "in":

        def f_in(env: Env) -> Any:
            x = a(env)
            y = b(env)
            if x is _ERR or y is _ERR:
                return _ERR
            tx = type(x)
            if tx not in _SCALARS:
                raise _NeedCEL
            if isinstance(y, dict):
                if tx is not str:
                    raise _NeedCEL
                return x in y
            if isinstance(y, (list, tuple)):
                for item in y:
                    if type(item) is not tx:
                        raise _NeedCEL
                return x in y
            raise _NeedCEL

        return f_in

    def f(env: Env) -> Any:
        x = a(env)
        y = b(env)
        if x is _ERR or y is _ERR:
            return _ERR
        tx = type(x)
        if tx is not type(y) or tx not in _SCALARS:
            raise _NeedCEL
        if op == "eq":
            return x == y
        if op == "ne":
            return x != y
        if tx is bool:
            raise _NeedCEL
        if op == "ge":
            return x >= y
        if op == "gt":
            return x > y
        if op == "le":
            return x <= y
        if op == "lt":
            return x < y
        raise _NeedCEL

    return f


def _dot(a: Fn, name: str) -> Fn:
    def f(env: Env) -> Any:
        x = a(env)
        if x is _ERR:
            return _ERR
        if isinstance(x, dict):
            return x.get(name, _ERR)
        raise _NeedCEL

    return f


def _index(a: Fn, b: Fn) -> Fn:
    def f(env: Env) -> Any:
        x = a(env)
        k = b(env)
        if x is _ERR or k is _ERR:
            return _ERR
        if isinstance(x, dict):
            if type(k) is not str:
                raise _NeedCEL
            return x.get(k, _ERR)
        if isinstance(x, (list, tuple)):
            if type(k) is not int:
                raise _NeedCEL
            return x[k] if 0 <= k < len(x) else _ERR
        raise _NeedCEL

    return f


def _macro(kind: str, coll: Fn, var: str, body: Fn) -> Fn:
    def f(env: Env) -> Any:
        c = coll(env)
        if c is _ERR:
            return _ERR
        if not isinstance(c, (dict, list, tuple)):
            raise _NeedCEL
        if var in env:
            raise _NeedCEL
        err = False
        try:
            for item in c:
                env[var] = item
                r = body(env)
                if r is True:
                    if kind == "exists":
                        return True
                elif r is False:
                    if kind == "all":
                        return False
                elif r is _ERR:
                    err = True
                else:
                    raise _NeedCEL
        finally:
            env.pop(var, None)
        if err:
            return _ERR
        return kind == "all"

    return f


def _to_cel(value: Any) -> Any:
    return json_to_cel(value)


class Expression:
    """A compiled rule expression over ``agent`` and ``interaction``."""

    def __init__(self, source: str) -> None:
        if not isinstance(source, str) or not source.strip():
            raise RouterError("empty expression")
        self.source = source
        try:
            tree = _ENV.compile(source)
        except Exception as exc:  # cel-python raises its own parse error types
            raise RouterError(f"expression does not parse: {source!r}: {exc}") from exc
        comp = _Compiler(source)
        comp.check(tree, frozenset())
        self.interaction_fields: frozenset[str] = frozenset(comp.interaction_fields)
        self.sorted_interaction_fields: tuple[str, ...] = tuple(sorted(self.interaction_fields))
        self.agent_fields: frozenset[str] = frozenset(comp.agent_fields)
        self._program = _ENV.program(tree)
        self._fast: Fn | None
        try:
            self._fast = comp.fast(tree)
        except _NeedCEL:
            self._fast = None
        self.fast_calls = 0
        self.cel_calls = 0

    @property
    def has_fast_path(self) -> bool:
        return self._fast is not None

    def evaluate_cel(self, agent_view: dict[str, Any], interaction_view: dict[str, Any]) -> bool:
        """Evaluate with cel-python only (the reference semantics)."""
        self.cel_calls += 1
        activation = {"agent": _to_cel(agent_view), "interaction": _to_cel(interaction_view)}
        try:
            result = self._program.evaluate(activation)
        except Exception:  # any CEL evaluation error means "not eligible"
            return False
        return isinstance(result, celtypes.BoolType) and bool(result)

    def __call__(self, agent_view: dict[str, Any], interaction_view: dict[str, Any]) -> bool:
        fast = self._fast
        if fast is not None:
            try:
                r = fast({"agent": agent_view, "interaction": interaction_view})
            except _NeedCEL:
                return self.evaluate_cel(agent_view, interaction_view)
            return r is True
        return self.evaluate_cel(agent_view, interaction_view)
