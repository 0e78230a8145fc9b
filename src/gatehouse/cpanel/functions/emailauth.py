"""UAPI `EmailAuth::install_spf_records`: set the SPF record of one or more of the account's
domains (domain/spf_records.py; WHMCS's SetSPFRecord calls it with one `domain` and
`record`). Arguments as cPanel's Cpanel::Args reads them: `domain` and `record`, each given
once or as `domain-1`, `domain-2`, … in pairs. The answer is cPanel's list of
`{"domain","status","msg"}` (docs/cpanel-dns.md).
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import uapi
from gatehouse.domain import spf_records

MODULE = "EmailAuth"


@uapi(MODULE, "install_spf_records", "Set the SPF record of one or more of the account's "
      "domains.")  # fmt: skip
def install_spf_records(call: Call) -> list[dict[str, Any]]:
    wanted = spf_records.domain_records(call.params.paired("domain", "record"))
    account = call.caller_account()
    return [s.as_dict() for s in spf_records.install(call, account, wanted)]
