"""A local forge stand-in shaped like both GitHub (REST v3, paths under `/repos/...`) and Forgejo / Gitea
(API v1, the same paths under `/api/v1/repos/...`), for what formation-hub calls: commit statuses, pull
requests (read, merge, review), tags, releases and issues. A protected branch's required status contexts
make a merge refused until they are `success` on the head SHA, as both forges do.

Run `python -m sandbox.forge --port 8030 --demo` or start `ForgeStandIn` in-process.
"""

from sandbox.forge.server import DEMO_REPOSITORY, DEMO_TOKEN, ForgeStandIn

__all__ = ["DEMO_REPOSITORY", "DEMO_TOKEN", "ForgeStandIn"]
