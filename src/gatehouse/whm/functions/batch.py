"""WHM API 1 `batch`: several WHM API 1 functions in one request (api.docs.cpanel.net, "Run
multiple WHM API 1 functions"; WHMCS's cPanel module sends its application links this way).

    /json-api/batch?api.version=1&abort_on_error=0
        &command=gethostname&command=editquota%3Fuser%3Dbob%26quota%3D500

Each `command` (repeated, or `command-N` as PHP clients number them) is a function name,
optionally followed by `?` and that function's own URL-encoded parameters.

Every command is authorized before any runs, as cPanel's Whostmgr/API/1/Utils/Batch.pm says
its batch does: a privilege the caller lacks or a function outside its token's scope refuses
the whole batch and nothing runs. That refusal says "required privileges", which is what
cPanel's own DNS cluster code looks for in a peer's batch answer (Cpanel/DNSLib/PeerStatus.pm,
`has_good_privs`). An unknown function is answered in its place with the "Unknown app"
refusal a call alone gets, and the others run: WHMCS's cPanel module sends `version`,
`systemloadavg` and `get_maximum_users` in one batch and skips the results whose reason
starts with "Unknown app" (older servers lack the newer functions); cPanel's DNS cluster code
notes that servers before 11.84 failed such a whole batch with a 500.

Then each runs exactly as if it had been called alone by the same caller: its own
transaction, its own audit record and post-commit work — a command that fails leaves the ones
before it done. The answer is `data.result`: each command's own whole answer (`data` and
`metadata`) in order. With `abort_on_error=1` the commands after the first that fails are
not run.

`metadata.result` is 1 when every command succeeded; otherwise 0 with `data.result` still
given, which is how WHMCS reads a batch (it walks `data.result` for the failed commands'
reasons once the batch's own result is 0). cPanel's wording of that reason is not recorded
in any source found; gatehouse's is `BATCH_FAILED` below.

Every command is a WHM API 1 call: an `api.version` inside a command is ignored. `batch`
cannot run itself. The batch itself needs no privilege: each command is checked for its own.
"""

from __future__ import annotations

from typing import Any

from gatehouse.api import dispatch, envelope
from gatehouse.api.call import Call
from gatehouse.api.params import Params
from gatehouse.api.registry import Param
from gatehouse.errors import GatehouseError, InvalidParameter, PermissionDenied, missing_parameter
from gatehouse.whm.registry import REGISTRY

NAME = "batch"
BATCH_FAILED = "One or more commands in the batch failed."
NOT_PERMITTED = "You do not have the required privileges to run every command in the batch:"
NOT_NESTED = "The “batch” function cannot be called from a batch."


@REGISTRY.function(
    NAME,
    "Run several WHM API 1 functions in one request (`command=FUNCTION?PARAMS`, repeated); "
    "each command's own answer in `data.result`.",
    params=(
        Param(
            "command",
            "A function name, then optionally `?` and its URL-encoded parameters; repeat the "
            "parameter (or number it: `command-0`, `command-1`, …) for each command.",
            required=True,
            handler_refuses=True,
        ),
        Param(
            "abort_on_error",
            "1: do not run the commands after the first that fails. 0 (the default): run them.",
        ),
    ),
    # Each command is checked, run and committed on its own; the batch itself touches nothing.
    readonly=True,
    slow=True,
)
def batch(call: Call) -> dict[str, Any]:
    commands = call.params.getlist("command")
    if not any(commands):
        raise missing_parameter("command")
    abort_on_error = call.flag("abort_on_error")
    authorized = [_authorized(call, command) for command in commands]
    results: list[dict[str, Any]] = []
    for name, params in authorized:
        if params is None:
            answer = envelope.whm1_dict(
                name, ok=False, reason=envelope.unknown_function_reason(name, "1")
            )
        else:
            answer = dispatch.execute(
                call.gatehouse,
                REGISTRY,
                call.principal,
                name,
                params,
                peer=call.peer,
                host=call.host,
            ).payload
        results.append(answer)
        if abort_on_error and not _succeeded(answer):
            break
    data = {"result": results}
    if all(_succeeded(r) for r in results):
        return data
    raise GatehouseError(BATCH_FAILED, data=data)


def _authorized(call: Call, command: str) -> tuple[str, Params | None]:
    """A command's function and parameters (always WHM API 1), once the caller may call it
    (None: no such function); else the whole batch's refusal."""
    name, _sep, query = command.partition("?")
    name = name.strip()
    if name == NAME:
        raise InvalidParameter(NOT_NESTED)
    fn = REGISTRY.get(name)
    if fn is None or fn.api0_only:
        return name, None  # answered in its place, as a call alone would be
    pairs = Params.from_request(query.encode(), b"").pairs()
    params = Params([*(p for p in pairs if p[0] != "api.version"), ("api.version", "1")])
    denial = dispatch.denial_of(call.principal, fn)
    if denial is not None:
        code, _detail, reason = denial
        raise PermissionDenied(f"{NOT_PERMITTED} {reason}", code=code)
    return name, params


def _succeeded(answer: dict[str, Any]) -> bool:
    """Whether a command's answer says it succeeded, in whichever envelope it answered (WHM
    API 1's metadata; the `cpanel` function answers in cPanel API 2's or UAPI's own)."""
    metadata = answer.get("metadata")
    if isinstance(metadata, dict) and "result" in metadata:
        return bool(metadata["result"])
    cpanelresult = answer.get("cpanelresult")
    if isinstance(cpanelresult, dict):
        event = cpanelresult.get("event")
        return isinstance(event, dict) and bool(event.get("result"))
    result = answer.get("result")
    if isinstance(result, dict):
        return bool(result.get("status"))
    return False
