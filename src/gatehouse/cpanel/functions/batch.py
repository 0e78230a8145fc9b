"""UAPI `Batch::strict`: several UAPI calls in one request, as cPanel's Cpanel/API/Batch.pm
runs them (cPanel's own JavaScript and cPanel::PublicAPI clients batch this way).

    /execute/Batch/strict?command=["DomainInfo","list_domains"]
        &command=["Variables","get_user_information",{"name":"home"}]

Each `command` (repeated, or `command-N`) is a JSON array: module, function and, optionally,
a hash of that function's arguments. Batch.pm checks, in this order, before anything runs:

* that no argument other than `command`/`command-N` is given (besides its exceptions:
  `cache-fix`, `cpanel_jsonapi_func`, `cpanel_jsonapi_module`, `cpanel_jsonapi_apiversion`,
  `api.version`, `api.persona`);
* that there is a `command` and none is empty (Cpanel::Args' get_length_required_multiple);
* that each is JSON (Cpanel::JSON::Load's JSONParseError), an array, with a module and a
  function (Perl-true), arguments given as a hash and no fourth member;
* that every function exists (Cpanel::API::get_coderef: Cpanel::Validate::PackageName on the
  module, `_function_is_safe` on the function, the module's load, then the function).

Then it runs them in order through Cpanel::API::execute, each as the account alone would call
it; here each goes through the one UAPI dispatch (`execute.execute`): the caller's token scope,
its own transaction, its own audit and use records and post-commit work — a command that fails
leaves the ones before it done, as on cPanel (no transaction spans a batch there). `data` is
each command's whole result (`data`, `errors`, `messages`, `metadata`, `status`,
`warnings`), in order. The first command that fails stops the batch: the answer then has
`status` 0, the error `Command #N failed. It reported the following error: E` (N counted
from 0, the command's errors joined by newlines) and `data` the results so far, the failed
one's last.

gatehouse keeps its own transport keys out of the stringency check (cPanel removes them before
a function sees its arguments): `cpanel_jsonapi_user` (WHM's `cpanel` function, and accepted
on this face when it names the caller; `user` when WHM's `cpanel` is given the account so,
which Whostmgr/XMLUI/cPanel.pm deletes) and `cpanel.user`/`cpanel.module`/`cpanel.function`
(WHM's `uapi_cpanel`, Whostmgr/API/1/Cpanel.pm deletes them).
"""

from __future__ import annotations

import json
import re
from typing import Any

from gatehouse.api import json_text
from gatehouse.api.call import Call
from gatehouse.api.params import Params
from gatehouse.cpanel import execute
from gatehouse.cpanel.registry import UAPI, registry_for, uapi
from gatehouse.errors import GatehouseError, InvalidParameter

MODULE = "Batch"
COMMAND = "command"
CALLER = "Cpanel::API::Batch::strict"  # JSONParseError's caller (Cpanel::Exception::Caller)

# Batch.pm @STRINGENCE_EXCEPTIONS, and gatehouse's transport keys (above).
STRINGENCE_EXCEPTIONS = frozenset(
    {
        "cache-fix",
        "cpanel_jsonapi_func",
        "cpanel_jsonapi_module",
        "cpanel_jsonapi_apiversion",
        "api.version",
        "api.persona",
        "cpanel_jsonapi_user",
        "cpanel.user",
        "cpanel.module",
        "cpanel.function",
    }
)
_COMMAND_KEY = re.compile(r"command(?:-[0-9]+)?")
NAME_MAX = 255  # Cpanel::Linux::Constants::NAME_MAX (Cpanel::Validate::FilesystemNodeName)
_PACKAGE_ALLOWED = re.compile(r"[a-zA-Z0-9 ._-]")
_PERL_WORD = re.compile(r"[A-Za-z0-9_]+")


def _numerate(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _quant(count: int, one: str, many: str) -> str:
    # Locale::Maketext's quant: the number (numf: thousands separated) and the noun.
    return f"{count:,} {_numerate(count, one, many)}"


def _perl_true(value: Any) -> bool:
    # Perl's truth: undef, "", "0" and the number 0 are false; any reference is true.
    if value is None or value is False:
        return False
    if isinstance(value, str):
        return value not in ("", "0")
    if isinstance(value, int | float):
        return value != 0
    return True


def _perl_text(value: Any) -> str:
    """A JSON scalar as Perl stringifies it (JSON::XS booleans are 1 and 0; undef is "")."""
    if value is None:
        return ""
    if value is True:
        return "1"
    if value is False:
        return "0"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}"
    return str(value)


# -- the arguments ---------------------------------------------------------------------------


def _check_stringence(call: Call) -> None:
    # Batch.pm _additional_stringence ("[join,~, ,_2]": the names joined by ", ").
    params = call.params
    exempt = STRINGENCE_EXCEPTIONS
    if call.principal.method == "whm" and "cpanel_jsonapi_user" not in params:
        # WHM's `cpanel` also takes the account as `user`, which cpanel_exec then deletes.
        exempt = exempt | {"user"}
    invalid = [key for key in params if key not in exempt and not _COMMAND_KEY.fullmatch(key)]
    if invalid:
        noun = _numerate(len(invalid), "name is", "names are")
        raise InvalidParameter(f"The following parameter {noun} invalid: {', '.join(invalid)}")


def _json_error(text: str, exc: json.JSONDecodeError) -> InvalidParameter:
    """Cpanel::Exception::JSONParseError for a string from a caller. The parser's own words are
    JSON::XS's for the usual mistakes (gatehouse's parser is not JSON::XS: another mistake is
    told in its words); the `at FILE line N.` Perl adds is left out."""
    message = exc.msg
    if message.startswith("Expecting value"):
        message = "malformed JSON string, neither tag, array, object, number, string or atom"
    elif message.startswith("Extra data"):
        message = "garbage after JSON object"
    elif message.startswith("Unterminated string"):
        message = "unexpected end of string while parsing JSON string"
    elif message == "Expecting ',' delimiter":
        opener = json_text.innermost_opener(text[: exc.pos])
        message = (
            ", or } expected while parsing object/hash"
            if opener == "{"
            else ", or ] expected while parsing array"
        )
    rest = text[exc.pos :]
    where = f'(before "{_uni_display(rest)}")' if rest else '(before "(end of string)")'
    reason = f"{message}, at character offset {exc.pos} {where}"
    return InvalidParameter(
        f"The system failed to parse the JSON stream data “{text[:1024]}” for the caller "
        f"“{CALLER}” because of an error: {reason}"
    )


# UNI_DISPLAY_BACKSLASH: the mnemonic controls (not backspace: no UNI_DISPLAY_BACKSPACE).
_MNEMONICS = {"\a": "\\a", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r",
              "\x1b": "\\e", "\\": "\\\\"}  # fmt: skip
UNI_DISPLAY_LIMIT = 20  # JSON::XS shows what follows the error through pv_uni_display(…, 20)


def _uni_display(rest: str) -> str:
    """Perl's pv_uni_display with UNI_DISPLAY_QQ: printable ASCII as is, a backslash doubled,
    the control characters with mnemonics as `\\n`…, anything else as `\\x{hex}`; once the
    text shown reaches the limit, `...` if more follows."""
    shown = ""
    for char in rest:
        if len(shown) >= UNI_DISPLAY_LIMIT:
            return shown + "..."
        if char in _MNEMONICS:
            shown += _MNEMONICS[char]
        elif " " <= char <= "~":
            shown += char
        else:
            shown += f"\\x{{{ord(char):x}}}"
    return shown


def _no_constant(name: str) -> Any:
    # JSON::XS takes no NaN or Infinity.
    raise json.JSONDecodeError("Expecting value", name, 0)


def _decode(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise _json_error(text, exc) from exc
    except RecursionError as exc:
        raise InvalidParameter(
            f"The system failed to parse the JSON stream data “{text[:1024]}” for the caller "
            f"“{CALLER}” because of an error: json text or perl structure exceeds maximum "
            "nesting level (max_depth set too low?)"
        ) from exc


def _arguments(text: str, args: dict[str, Any]) -> Params:
    """A command's argument hash as the function's parameters: scalars as Perl's text, a list
    as the same argument repeated (gatehouse's reading: Perl would pass the array's
    reference). A hash inside is refused, naming the argument."""
    pairs: list[tuple[str, str]] = []
    for key, value in args.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, dict | list):
                raise InvalidParameter(
                    f"The following “{COMMAND}”’s argument “{key}” is not a string, a number "
                    f"or a list of them: {text}"
                )
            pairs.append((key, _perl_text(item)))
    return Params(pairs)


def _commands(call: Call) -> list[tuple[str, str, Params]]:
    """Batch.pm _get_commands_from_args_object: every command, checked, or a refusal."""
    _check_stringence(call)
    texts = call.params.getlist(COMMAND)
    if not texts:
        raise InvalidParameter(f"Provide at least one “{COMMAND}” argument.")
    if any(text == "" for text in texts):
        raise InvalidParameter(f"The “{COMMAND}” arguments cannot be empty.")
    commands: list[tuple[str, str, Params]] = []
    for text in texts:
        decoded = _decode(text)
        if not isinstance(decoded, list):
            raise InvalidParameter(f"The following “{COMMAND}” is not an array: {text}")
        if not decoded or not _perl_true(decoded[0]):
            raise InvalidParameter(f"The following “{COMMAND}” lacks a module: {text}")
        if len(decoded) < 2 or not _perl_true(decoded[1]):
            raise InvalidParameter(f"The following “{COMMAND}” lacks a function: {text}")
        if len(decoded) > 2 and not isinstance(decoded[2], dict):
            raise InvalidParameter(
                f"The following “{COMMAND}”’s arguments are not given as a hash: {text}"
            )
        if len(decoded) > 3:
            raise InvalidParameter(f"The following “{COMMAND}” has too many array members: {text}")
        module, func = (_name_text(decoded[0]), _name_text(decoded[1]))
        args = decoded[2] if len(decoded) > 2 else {}
        commands.append((module, func, _arguments(text, args)))
    return commands


def _name_text(value: Any) -> str:
    # A reference stringifies as Perl's `HASH(0x…)`/`ARRAY(0x…)`, which no name check passes.
    if isinstance(value, dict):
        return "HASH(0x0)"
    if isinstance(value, list):
        return "ARRAY(0x0)"
    return _perl_text(value)


# -- Cpanel::API::get_coderef ----------------------------------------------------------------


def _check_package_name(module: str) -> None:
    """Cpanel::Validate::PackageName::validate_or_die (FilesystemNodeName's checks first)."""
    size = len(module.encode())
    if module in (".", ".."):
        raise InvalidParameter(f"“{module}” is a reserved value.")
    if size > NAME_MAX:
        raise InvalidParameter(
            f"The “{module}” value exceeds the maximum length by "
            f"{_quant(size - NAME_MAX, 'byte', 'bytes')}. The maximum allowed length is "
            f"{_quant(NAME_MAX, 'byte', 'bytes')}."
        )
    if "/" in module:
        raise InvalidParameter("This value may not contain the character “/”.")
    if "\0" in module:
        raise InvalidParameter("This value may not contain a NUL byte.")
    if module.isspace():
        raise InvalidParameter("This value may not be empty.")
    if module in ("undefined", "extensions"):
        raise InvalidParameter(f"“{module}” is a reserved package name.")
    if any(ord(c) < 0x80 and not _PACKAGE_ALLOWED.fullmatch(c) for c in module):
        raise InvalidParameter(
            f"“{module}” is invalid. A package name may only contain multi-byte UTF-8 "
            "characters, spaces, and the following: a-z A-Z 0-9 . _ -"
        )


def _function_is_safe(func: str) -> bool:
    return len(func) <= 1024 and not func.startswith("_") and bool(_PERL_WORD.fullmatch(func))


def _check_exists(module: str, func: str) -> None:
    _check_package_name(module)
    if not _function_is_safe(func):
        raise InvalidParameter(f"“{func}” is not a valid UAPI function name.")
    package = f"Cpanel::API::{module}"
    if not _PERL_WORD.fullmatch(module):
        # Cpanel::LoadModule::load_perl_module: is_valid_module_name.
        raise InvalidParameter(f"“{package}” is not a valid name for a Perl module.")
    registry = registry_for(UAPI)
    if not registry.has_module(module):
        # Cpanel::Exception::ModuleLoadError around Perl's own "Can't locate" (whose @INC
        # list and `at (eval N) line 1.` are left out).
        path = package.replace("::", "/") + ".pm"
        raise GatehouseError(
            f"The system failed to load the module “{package}” because of an error: "
            f"Can't locate {path} in @INC (you may need to install the {package} module)"
        )
    if registry.get(module, func) is None:
        raise GatehouseError(f"The UAPI module “{module}” does not have a function named “{func}”.")


# -- the batch -------------------------------------------------------------------------------


@uapi(MODULE, "strict", "Run several UAPI calls in order (JSON `command` arguments); the first "
      "that fails stops the batch.", readonly=True, slow=True)  # fmt: skip
def strict(call: Call) -> list[dict[str, Any]]:
    # readonly: the batch itself touches nothing; each command runs, is checked against the
    # token's scope and is committed as a call of its own.
    commands = _commands(call)
    for module, func, _args in commands:
        _check_exists(module, func)
    responses: list[dict[str, Any]] = []
    for number, (module, func, args) in enumerate(commands):
        outcome = execute.execute(
            call.gatehouse, call.principal, UAPI, module, func, args, peer=call.peer,
            host=call.host,
        )  # fmt: skip
        result = outcome.payload["result"]
        responses.append(result)
        if not result["status"]:
            error = "\n".join(result.get("errors") or [])
            raise GatehouseError(
                f"Command #{number:,} failed. It reported the following error: {error}",
                data=responses,
            )
    return responses
