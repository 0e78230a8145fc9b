"""WHM API 1 `batch`: several WHM API 1 functions in one request (api.docs.cpanel.net, "Run
multiple WHM API 1 functions"; WHMCS's cPanel module sends its application links this way).

    /json-api/batch?api.version=1&abort_on_error=0
        &command=gethostname&command=editquota%3Fuser%3Dbob%26quota%3D500

Each `command` (repeated, or `command-N` as PHP clients number them) is a function name,
optionally followed by `?` and that function's own URL-encoded parameters. Each runs exactly
as if it had been called alone by the same caller: its own privilege check, its own
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
from gatehouse.errors import GatehouseError, missing_parameter
from gatehouse.whm.registry import REGISTRY

NAME = "batch"
BATCH_FAILED = "One or more commands in the batch failed."
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
    results: list[dict[str, Any]] = []
    for command in commands:
        outcome = _run(call, command)
        results.append(outcome)
        if abort_on_error and not _succeeded(outcome):
            break
    data = {"result": results}
    if all(_succeeded(r) for r in results):
        return data
    raise GatehouseError(BATCH_FAILED, data=data)


def _run(call: Call, command: str) -> dict[str, Any]:
    """One command's whole answer, as the same caller calling it alone would get it."""
    name, _sep, query = command.partition("?")
    name = name.strip()
    if name == NAME:
        return envelope.whm1_dict(NAME, ok=False, reason=NOT_NESTED)
    try:
        params = Params.from_request(query.encode(), b"")
    except GatehouseError as exc:
        return envelope.whm1_dict(name, ok=False, reason=exc.reason)
    params = Params([*(p for p in params.pairs() if p[0] != "api.version"), ("api.version", "1")])
    outcome = dispatch.execute(
        call.gatehouse, REGISTRY, call.principal, name, params, peer=call.peer, host=call.host
    )
    return outcome.payload


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
