"""WHM API 0: how a function answers a call without `api.version` (or with `api.version=0`),
as billing systems still call it (WHMCS, Blesta, FOSSBilling, lumberg).

API 0 has no common envelope: each function has its own top-level key, in one of a few
families (cPanel's "WHM API 0 - Return Data"; the shapes follow the answers lumberg recorded
from real servers where they differ from cPanel's docs — docs/api.md says where):

* `result_list`   `{"result":[{"status":1,"statusmsg":"…", …}]}` — createacct, removeacct, …
* `named_list`    `{"passwd":[{"status":1,"statusmsg":"…", …}]}` — passwd
* `with_status`   `{"acct":[…],"status":1,"statusmsg":"Ok"}` — listaccts, accountsummary, …
* `bare`          `{"package":[…]}` — listpkgs, listresellers

A function declares its form with `Api0(success, failure, renames)`; its API 1 handler runs
unchanged (one use case, two shapes), and the dispatcher shapes the answer. `status` is always
the number 1 or 0; a refusal's reason is always in `statusmsg`, where the success message would
be, and the family's other keys stay present as null (API 0 has no `reason`, no `metadata`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gatehouse.api.params import Params
from gatehouse.api.registry import Reply

if TYPE_CHECKING:
    from gatehouse.api.call import Call


@dataclass(frozen=True, slots=True)
class Answer:
    """An API 1 handler's answer, as the API 0 shapes read it."""

    data: Any
    reason: str
    raw: str | None  # the transcript API 1 puts in metadata.output.raw

    @classmethod
    def of(cls, result: Any) -> Answer:
        if not isinstance(result, Reply):
            return cls(result, "OK", None)
        output = (result.metadata or {}).get("output") or {}
        raw = output.get("raw") if isinstance(output, dict) else None
        reason = result.api0_reason or result.reason
        return cls(result.data if result.has_data else None, reason, raw)


Body = dict[str, Any]

# API 0's own refusal of a call, decided before the API 1 handler runs: a message (answered in
# the function's failure shape) or a whole body; None lets the handler decide.
Precheck = Callable[["Call"], "str | Body | None"]


@dataclass(frozen=True, slots=True)
class Api0:
    """How one function answers WHM API 0."""

    success: Callable[[Answer], Body]
    failure: Callable[[str], Body]
    # (API 0's name, API 1's name): `passwd`'s `pass` is API 1's `password`.
    renames: tuple[tuple[str, str], ...] = ()
    # Where API 0 reaches a refusal by another path than API 1 (cPanel's Whostmgr/XMLUI
    # wrapper checks first, or calls the function below API 1's checks), its own words.
    precheck: Precheck | None = None
    # API 1's parameters that API 0 does not read (cPanel's XMLUI wrapper passes others).
    ignores: tuple[str, ...] = ()
    # A refusal whose body echoes the call's parameters (setacls' `acls`); else `failure`.
    failure_of: Callable[[Params, str], Body] | None = None

    def refused(self, params: Params, reason: str) -> Body:
        """A refusal with this reason, in the function's shape."""
        if self.failure_of is not None:
            return self.failure_of(params, reason)
        return self.failure(reason)

    def refusal(self, call: Call) -> Body | None:
        """The API 0 refusal `precheck` decides on, in the function's shape, or None."""
        if self.precheck is None:
            return None
        decided = self.precheck(call)
        if isinstance(decided, str):
            return self.refused(call.params, decided)
        return decided

    def params(self, params: Params) -> Params:
        """The call's parameters with API 0's names also under API 1's (API 1's win), and
        without those API 0 does not read."""
        if not self.renames and not self.ignores:
            return params
        pairs = [(k, v) for k, v in params.pairs() if k not in self.ignores]
        for old, new in self.renames:
            value = params.get(old)
            if value is not None and params.get(new) is None:
                pairs.append((new, value))
        return Params(pairs)


def _message(answer: Answer) -> str | None:
    return answer.reason


def result_list(
    *,
    message: Callable[[Answer], str | None] = _message,
    extra: Callable[[Answer], Body] | None = None,
    nulls: tuple[str, ...] = (),
    renames: tuple[tuple[str, str], ...] = (),
) -> Api0:
    """`{"result":[{"status":1,"statusmsg":MESSAGE, **EXTRA}]}`; a refusal keeps the `nulls`
    keys as null."""
    return named_list("result", message=message, extra=extra, nulls=nulls, renames=renames)


def named_list(
    key: str,
    *,
    message: Callable[[Answer], str | None] = _message,
    extra: Callable[[Answer], Body] | None = None,
    nulls: tuple[str, ...] = (),
    renames: tuple[tuple[str, str], ...] = (),
) -> Api0:
    """`{KEY:[{"status":1,"statusmsg":MESSAGE, **EXTRA}]}`."""

    def success(answer: Answer) -> Body:
        item: Body = {"status": 1, "statusmsg": message(answer)}
        if extra is not None:
            item.update(extra(answer))
        return {key: [item]}

    def failure(reason: str) -> Body:
        return {key: [{"status": 0, "statusmsg": reason, **dict.fromkeys(nulls)}]}

    return Api0(success, failure, renames)


def with_status(key: str, records: Callable[[Answer], Any], *, on_failure: Any = None) -> Api0:
    """`{KEY:RECORDS,"status":1,"statusmsg":"Ok"}`; a refusal `{KEY:ON_FAILURE,"status":0,…}`."""

    def success(answer: Answer) -> Body:
        return {key: records(answer), "status": 1, "statusmsg": "Ok"}

    def failure(reason: str) -> Body:
        return {key: on_failure, "status": 0, "statusmsg": reason}

    return Api0(success, failure)


def bare(key: str, value: Callable[[Answer], Any]) -> Api0:
    """`{KEY:VALUE}` with no status; a refusal carries `status` 0 and `statusmsg` beside a
    null KEY, where API 0 clients (FOSSBilling, Blesta) look for a top-level status."""

    def success(answer: Answer) -> Body:
        return {key: value(answer)}

    def failure(reason: str) -> Body:
        return {key: None, "status": 0, "statusmsg": reason}

    return Api0(success, failure)
