import secrets
from concurrent.futures import ThreadPoolExecutor
from whm_helpers import new_name

def test_race(server):
    for _ in range(3):
        name = new_name()
        def one(i):
            r = server.get("createacct", params={"username": name, "domain": f"{name}{i}.example.com", "password": "p"*12})
            return r.status_code, r.text[:200]
        with ThreadPoolExecutor(8) as pool:
            print(sorted(pool.map(one, range(8))))
