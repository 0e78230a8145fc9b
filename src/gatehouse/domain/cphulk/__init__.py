"""cPHulk: brute-force containment for every credential path (docs/security.md).

Failed logins are counted per address and per username in sliding windows, in the store, so
that every process and node shares them. Over the limits an address is blocked for a while
(every credential from it is refused, as a failed login is) and a username's password logins
are locked (its tokens keep working from other addresses). A white list is never blocked and a
black list is always refused. Names and shapes follow cPanel's cPHulk (WHM API 1 `cPHulk`).

* `ranges` — the addresses, CIDR blocks and ranges of the lists;
* `settings` — the limits, as cPanel names them;
* `lists` — the white and black lists;
* `gates` — what the authenticator keeps in memory to refuse at once;
* `attempts` — counting failures and making blocks.
"""
