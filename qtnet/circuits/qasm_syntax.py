"""What OpenQASM 2 and 3 share: the error type, statements with line numbers, parameter
expressions."""

from __future__ import annotations

import ast
import functools
import math
import operator
import re

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}
FUNCTIONS = {"sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp,
             "ln": math.log, "sqrt": math.sqrt, "asin": math.asin, "acos": math.acos,
             "atan": math.atan}


class QasmError(ValueError):
    """A malformed or unsupported OpenQASM program."""


def evaluate_expression(text: str, env: dict[str, float] | None = None) -> float:
    """Evaluate a QASM parameter expression (numbers, pi, + - * / ^, sin cos ... ln sqrt);
    anything that does not give a finite number is a QasmError naming the expression."""
    items = tuple(env.items()) if env else ()
    try:
        return _evaluate(text, items)
    except TypeError:                   # an unhashable value in env: evaluate uncached
        return _evaluate.__wrapped__(text, items)


@functools.lru_cache(maxsize=4096)      # circuits repeat their angles (pi/2, the same theta)
def _evaluate(text: str, env_items: tuple) -> float:
    env = {"pi": math.pi, **dict(env_items)}
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise QasmError(f"cannot parse parameter expression {_short(text)}") from None

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in env:
                raise QasmError(f"unknown name {node.id!r} in expression {_short(text)}")
            return env[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in FUNCTIONS and len(node.args) == 1):
            return FUNCTIONS[node.func.id](ev(node.args[0]))
        raise QasmError(f"unsupported construct in expression {_short(text)}")

    try:
        value = ev(tree)
    except ZeroDivisionError:
        raise QasmError(f"division by zero in expression {_short(text)}") from None
    except (OverflowError, ValueError, RecursionError) as err:   # 2.0^5000, ln(0), huge ints
        if isinstance(err, QasmError):
            raise
        raise QasmError(f"cannot evaluate expression {_short(text)}: "
                        f"{err or type(err).__name__}") from None
    if not math.isfinite(value):
        raise QasmError(f"parameter {_short(text)} is not a finite number")
    return value


def _short(text: str) -> str:
    """``text`` quoted, cut to 60 characters (a 5000-digit literal fits on no line)."""
    return repr(text) if len(text) <= 60 else repr(text[:57] + "...")


def check_arity(line: int, name: str, n_params: int, params, n_qubits: int, qubits) -> None:
    """A gate call with the parameter and qubit counts its definition takes."""
    if len(params) != n_params:
        raise QasmError(f"line {line}: gate {name} takes {n_params} parameter(s), "
                        f"got {len(params)}")
    if len(qubits) != n_qubits:
        raise QasmError(f"line {line}: gate {name} acts on {n_qubits} qubit(s), "
                        f"got {len(qubits)}")


def split_args(text: str) -> list[str]:
    """Split on commas at parenthesis depth 0."""
    if "(" not in text:                 # the common case: plain operands or numbers
        out = [t.strip() for t in text.split(",")]
        return out[:-1] if not out[-1] else out
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


_SPACE = re.compile(r"\s*")


def split_statements(text: str) -> list[tuple[int, str]]:
    """``[(line number, statement), ...]`` without comments; a ``{...}`` block (a gate body)
    comes as one statement."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    body = re.sub(r"//[^\n]*", "", text)
    out, pos, line = [], 0, 1
    while pos < len(body):
        m = _SPACE.match(body, pos)          # from pos: slicing the text would be quadratic
        line += m.group(0).count("\n")
        pos = m.end()
        if pos >= len(body):
            break
        semi, brace = body.find(";", pos), body.find("{", pos)
        if brace != -1 and (semi == -1 or brace < semi):
            close = body.find("}", brace)
            if close == -1:
                raise QasmError(f"line {line}: block has no closing '}}'")
            stmt, end = body[pos:close + 1], close + 1
        elif semi == -1:
            raise QasmError(f"line {line}: statement {body[pos:].strip()[:40]!r} "
                            "has no terminating ';'")
        else:
            stmt, end = body[pos:semi], semi + 1
        out.append((line, stmt.strip()))
        line += body[pos:end].count("\n")
        pos = end
    return out
