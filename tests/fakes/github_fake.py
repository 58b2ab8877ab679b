"""A stateful fake of the GitHub REST API subset incident-tui uses, served over real HTTP on loopback.

Tests put Prism (validating against GitHub's official OpenAPI description) between the client and
this fake, so every payload built here must match the real API's shapes. The fake holds one
repository with a real commit graph: blobs (hashed as git does), trees (kept flat, path -> blob),
commits and refs, plus pull requests and deployments. Commit details carry per-file unified-diff
patches computed from the parent's tree, as GitHub's ``files[].patch`` does.

Because Prism rewrites ``Host`` to the upstream's address, every URL in a response is built from a
configured public base URL (``--public-url`` or ``/__control {"public_url": ...}``), falling back
to the ``Host`` header; PyGithub refuses to follow URLs on another host or port.

Test-only endpoints, called on the fake's own port (they are not in the spec):

* ``POST /__control``: ``{"reset": true}`` (reload the seed, forget requests and faults),
  ``{"public_url": "http://127.0.0.1:PRISM"}`` (kept across resets),
  ``{"fail": {"status": 403, "count": N, "rate_limit": true, "reset": EPOCH}}`` or
  ``{"fail": {"status": 500, "count": N}}`` (the next N API requests fail; with ``"method"`` and
  ``"path"``, the next N requests matching them),
  ``{"answer_late": {"method": "POST", "path": "/repos/o/r/pulls", "seconds": S, "count": N}}`` (the
  next N matching requests are carried out, then answered only after S seconds: a client with a
  shorter timeout gives up on a write that did succeed),
  ``{"race": "ref"}`` (the next ``POST /git/refs`` finds its branch just created by someone else) or ``{"race": "pull"}`` (the next ``POST /pulls`` finds the same
  PR just opened by someone else).
* ``GET /__requests``: every API request so far, oldest first, as ``{"method", "path", "query",
  "headers", "body", "status", "at"}`` (the ``Authorization`` value is ``"<redacted>"``).
* ``GET /__refs``: ``{"refs": {name: sha}, "commits": [{"sha", "message"}]}``.

Run it as ``python tests/fakes/github_fake.py --port 0 --seed seed.json``; it prints
``READY <port>`` on stdout once it accepts connections.
"""

from __future__ import annotations

import argparse
import base64
import copy
import difflib
import hashlib
import json
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

Json = dict[str, Any]
Reply = tuple[int, Any, dict[str, str]]
DOCS = "https://docs.github.com/rest"
"""``documentation_url`` of error bodies."""
WEB = "https://github.com"
"""Prefix of ``html_url`` links (never followed by PyGithub)."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(message: str, status: int, **extra: Any) -> Json:
    return {"message": message, "documentation_url": DOCS, "status": str(status), **extra}


def _sha(kind: str, data: bytes) -> str:
    """A git object id: SHA-1 of ``<kind> <len>\\0<data>``."""
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).hexdigest()


def _patch(old: str, new: str) -> str:
    """GitHub's ``patch``: unified-diff hunks without the ``---``/``+++`` header."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=3))
    return "\n".join(lines[2:])


class FakeGitHub:
    """The repository: seed data plus everything written since the last reset."""

    def __init__(self, seed: Json) -> None:
        self.seed = seed
        self.lock = threading.Lock()
        self.public_url: str | None = None
        self.reset()

    def reset(self) -> None:
        """Back to the seed: rebuild the history, forget requests, writes and faults."""
        data = copy.deepcopy(self.seed)
        self.owner, self.name = data["owner"], data["name"]
        self.default_branch = data.get("default_branch", "main")
        self.tokens: dict[str, Json] = data["tokens"]
        self.blobs: dict[str, bytes] = {}
        self.trees: dict[str, dict[str, str]] = {"": {}}
        self.commits: dict[str, Json] = {}
        self.refs: dict[str, str] = {}
        self.requests: list[Json] = []
        self.faults: list[Json] = []
        self.races: set[str] = set()
        self.late: list[Json] = []
        parent: str | None = None
        shas: list[str] = []
        for entry in data.get("history", []):
            files = dict(self.trees[self.commits[parent]["tree"]] if parent else {})
            for path, text in entry["files"].items():
                if text is None:
                    files.pop(path, None)
                else:
                    files[path] = self.add_blob(text.encode())
            for old, new in entry.get("renames", {}).items():
                files[new] = files.pop(old)
            name, email = entry["author"]
            parent = self.add_commit(entry["message"], self.add_tree(files), [parent] if parent else [],
                                     {"name": name, "email": email, "date": entry["authored"]},
                                     {"name": name, "email": email, "date": entry["committed"]})
            shas.append(parent)
        if parent:
            self.refs[f"refs/heads/{self.default_branch}"] = parent
        for branch, index in data.get("branches", {}).items():
            self.refs[f"refs/heads/{branch}"] = shas[index]
        self.pulls: list[Json] = []
        for pull in data.get("pulls", []):
            pull = dict(pull)
            for key in ("head_sha", "merge_commit_sha"):
                if isinstance(pull.get(key), int):
                    pull[key] = shas[pull[key]]
            self.pulls.append(pull)
        self.deployments = [{**d, "sha": shas[d["sha"]] if isinstance(d["sha"], int) else d["sha"]}
                            for d in data.get("deployments", [])]

    # -- the object store ---------------------------------------------------------------------

    def add_blob(self, data: bytes) -> str:
        sha = _sha("blob", data)
        self.blobs[sha] = data
        return sha

    def add_tree(self, files: dict[str, str]) -> str:
        """Store a flat tree (path -> blob sha); its id hashes the sorted entries."""
        sha = _sha("tree", "".join(f"100644 {p}\0{s}" for p, s in sorted(files.items())).encode())
        self.trees[sha] = dict(files)
        return sha

    def add_commit(self, message: str, tree: str, parents: list[str], author: Json, committer: Json) -> str:
        def who(person: Json) -> str:
            at = int(datetime.fromisoformat(person["date"]).timestamp())
            return f"{person['name']} <{person['email']}> {at} +0000"
        text = f"tree {tree}\n" + "".join(f"parent {p}\n" for p in parents)
        text += f"author {who(author)}\ncommitter {who(committer)}\n\n{message}"
        sha = _sha("commit", text.encode())
        self.commits[sha] = {"tree": tree, "parents": parents, "author": author, "committer": committer,
                             "message": message}
        return sha

    def resolve(self, ref: str) -> str | None:
        """A commit SHA from a full or abbreviated SHA, a branch name, or ``heads/<branch>``."""
        for name in (f"refs/heads/{ref}", f"refs/{ref}", ref):
            if name in self.refs:
                return self.refs[name]
        if len(ref) >= 4 and all(c in "0123456789abcdef" for c in ref):
            found = [sha for sha in self.commits if sha.startswith(ref)]
            return found[0] if len(found) == 1 else None
        return None

    def take(self, rules: list[Json], method: str, path: str) -> Json | None:
        """Remove and return the first rule matching the request (a rule without method/path matches all)."""
        for index, rule in enumerate(rules):
            if rule.get("method", method) == method and rule.get("path", path) == path:
                return rules.pop(index)
        return None

    def ancestors(self, sha: str) -> list[str]:
        seen, stack = [], [sha]
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.append(current)
                stack.extend(self.commits[current]["parents"])
        return seen


class Handler(BaseHTTPRequestHandler):
    """Routes one request to the fake; the routes mirror the real API's."""

    server: FakeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read ``/__requests`` instead of the log."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with fake.lock:
            if url.path == "/__control" and self.command == "POST":
                command = body if isinstance(body, dict) else {}
                if command.get("reset"):
                    fake.reset()
                if "public_url" in command:
                    fake.public_url = command["public_url"].rstrip("/")
                if "race" in command:
                    fake.races.add(command["race"])
                if "fail" in command:
                    fake.faults.extend([command["fail"]] * int(command["fail"].get("count", 1)))
                if "answer_late" in command:
                    fake.late.extend([command["answer_late"]] * int(command["answer_late"].get("count", 1)))
                return self._send(200, {"ok": True}, {})
            if url.path == "/__requests":
                return self._send(200, {"requests": fake.requests}, {})
            if url.path == "/__refs":
                return self._send(200, {"refs": fake.refs, "commits": [
                    {"sha": s, "message": c["message"]} for s, c in fake.commits.items()]}, {})
            headers = {k: ("<redacted>" if k.lower() == "authorization" else v) for k, v in self.headers.items()}
            record = {"method": self.command, "path": url.path, "query": query, "headers": headers,
                      "body": body, "at": time.time()}
            fake.requests.append(record)
            status, payload, extra = self._route(fake, url.path, query, body)
            record["status"] = status
            late = fake.take(fake.late, self.command, url.path)
        if late is not None:
            # The write is done; hold the answer back (outside the lock, so retries are served).
            time.sleep(float(late.get("seconds", 5)))
        limits = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999", "x-ratelimit-used": "1",
                  "x-ratelimit-reset": str(int(time.time()) + 3600), "x-ratelimit-resource": "core"}
        try:
            self._send(status, payload, {**limits, **extra})
        except (BrokenPipeError, ConnectionResetError):  # the client (or Prism) gave up waiting
            self.close_connection = True

    def _route(self, fake: FakeGitHub, path: str, query: dict[str, list[str]], body: Any) -> Reply:
        fault = fake.take(fake.faults, self.command, path)
        if fault is not None:
            status = int(fault["status"])
            if fault.get("rate_limit"):
                return status, _error("API rate limit exceeded for user ID 1.", status), {
                    "x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000", "x-ratelimit-used": "5000",
                    "x-ratelimit-reset": str(fault.get("reset", int(time.time()) + 600))}
            return status, _error("Server Error", status), {}
        auth = self.headers.get("Authorization", "")
        token = auth.split(" ", 1)[1] if auth.lower().startswith(("token ", "bearer ")) else None
        if token not in fake.tokens:
            return 401, _error("Bad credentials", 401), {}
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:1] != ["repos"] or len(parts) < 3 or parts[1:3] != [fake.owner, fake.name]:
            return 404, _error("Not Found", 404), {}
        api = Api(fake, self.headers.get("Host", "127.0.0.1"), fake.tokens[token])
        return api.dispatch(self.command, parts[3:], query, body if isinstance(body, dict) else {}, path)


class Api:
    """One request's view of the fake: JSON builders in GitHub's shapes and the routes."""

    def __init__(self, fake: FakeGitHub, host: str, user: Json) -> None:
        self.fake, self.user = fake, user
        self.base = fake.public_url or f"http://{host}"
        self.repo_url = f"{self.base}/repos/{fake.owner}/{fake.name}"
        self.web = f"{WEB}/{fake.owner}/{fake.name}"

    # -- objects in the API's shapes -------------------------------------------------------------

    def user_json(self, login: str, ident: int) -> Json:
        url = f"{self.base}/users/{login}"
        return {"login": login, "id": ident, "node_id": f"U_{ident}", "type": "User", "site_admin": False,
                "avatar_url": f"https://avatars.githubusercontent.com/u/{ident}", "gravatar_id": "",
                "url": url, "html_url": f"{WEB}/{login}", "followers_url": f"{url}/followers",
                "following_url": f"{url}/following{{/other_user}}", "gists_url": f"{url}/gists{{/gist_id}}",
                "starred_url": f"{url}/starred{{/owner}}{{/repo}}", "subscriptions_url": f"{url}/subscriptions",
                "organizations_url": f"{url}/orgs", "repos_url": f"{url}/repos", "events_url": f"{url}/events{{/privacy}}",
                "received_events_url": f"{url}/received_events"}

    def repo_json(self) -> Json:
        fake, url = self.fake, self.repo_url
        templated = {name: f"{url}/{path}" for name, path in {
            "archive_url": "{archive_format}{/ref}", "assignees_url": "assignees{/user}",
            "blobs_url": "git/blobs{/sha}", "branches_url": "branches{/branch}",
            "collaborators_url": "collaborators{/collaborator}", "comments_url": "comments{/number}",
            "commits_url": "commits{/sha}", "compare_url": "compare/{base}...{head}",
            "contents_url": "contents/{+path}", "git_commits_url": "git/commits{/sha}",
            "git_refs_url": "git/refs{/sha}", "git_tags_url": "git/tags{/sha}",
            "issue_comment_url": "issues/comments{/number}", "issue_events_url": "issues/events{/number}",
            "issues_url": "issues{/number}", "keys_url": "keys{/key_id}", "labels_url": "labels{/name}",
            "milestones_url": "milestones{/number}", "notifications_url": "notifications{?since,all,participating}",
            "pulls_url": "pulls{/number}", "releases_url": "releases{/id}", "statuses_url": "statuses/{sha}",
            "trees_url": "git/trees{/sha}"}.items()}
        plain = {f"{name}_url": f"{url}/{name}" for name in (
            "contributors", "deployments", "downloads", "events", "forks", "hooks", "languages", "merges",
            "stargazers", "subscribers", "subscription", "tags", "teams")}
        owner = self.user_json(fake.owner, 1000)
        return {**templated, **plain, "id": 4242, "node_id": "R_4242", "name": fake.name,
                "full_name": f"{fake.owner}/{fake.name}", "owner": owner, "private": False,
                "html_url": self.web, "description": "Ads demo service", "fork": False, "url": url,
                "clone_url": f"{self.web}.git", "git_url": f"git://github.com/{fake.owner}/{fake.name}.git",
                "ssh_url": f"git@github.com:{fake.owner}/{fake.name}.git", "svn_url": self.web,
                "mirror_url": None, "homepage": None, "language": "C", "forks": 0, "forks_count": 0,
                "stargazers_count": 0, "watchers": 0, "watchers_count": 0, "size": 12,
                "default_branch": fake.default_branch, "open_issues": 0, "open_issues_count": 0,
                "has_issues": True, "has_projects": False, "has_wiki": False, "has_pages": False,
                "has_downloads": True, "has_discussions": False, "archived": False, "disabled": False,
                "license": None, "pushed_at": "2024-05-02T11:03:00Z", "created_at": "2024-01-10T09:00:00Z",
                "updated_at": "2024-05-02T11:03:00Z", "network_count": 0, "subscribers_count": 1}

    def git_commit_json(self, sha: str) -> Json:
        commit = self.fake.commits[sha]
        return {"sha": sha, "node_id": f"C_{sha[:12]}", "url": f"{self.repo_url}/git/commits/{sha}",
                "html_url": f"{self.web}/commit/{sha}", "author": commit["author"],
                "committer": commit["committer"], "message": commit["message"],
                "tree": {"sha": commit["tree"], "url": f"{self.repo_url}/git/trees/{commit['tree']}"},
                "parents": [{"sha": p, "url": f"{self.repo_url}/git/commits/{p}", "html_url": f"{self.web}/commit/{p}"}
                            for p in commit["parents"]],
                "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                                 "verified_at": None}}

    def commit_json(self, sha: str, *, files: bool) -> Json:
        commit = self.fake.commits[sha]
        body: Json = {
            "url": f"{self.repo_url}/commits/{sha}", "sha": sha, "node_id": f"C_{sha[:12]}",
            "html_url": f"{self.web}/commit/{sha}", "comments_url": f"{self.repo_url}/commits/{sha}/comments",
            "commit": {"author": commit["author"], "committer": commit["committer"], "message": commit["message"],
                       "comment_count": 0, "url": f"{self.repo_url}/git/commits/{sha}",
                       "tree": {"sha": commit["tree"], "url": f"{self.repo_url}/git/trees/{commit['tree']}"}},
            "author": None, "committer": None,
            "parents": [{"sha": p, "url": f"{self.repo_url}/commits/{p}", "html_url": f"{self.web}/commit/{p}"}
                        for p in commit["parents"]]}
        if files:
            body["files"] = self.diff_entries(sha)
            added = sum(f["additions"] for f in body["files"])
            removed = sum(f["deletions"] for f in body["files"])
            body["stats"] = {"additions": added, "deletions": removed, "total": added + removed}
        return body

    def diff_entries(self, sha: str) -> list[Json]:
        fake, commit = self.fake, self.fake.commits[sha]
        new = fake.trees[commit["tree"]]
        old = fake.trees[fake.commits[commit["parents"][0]]["tree"]] if commit["parents"] else {}
        text = lambda blob: fake.blobs[blob].decode("utf-8", "replace")
        renamed = {o: n for o in old if o not in new for n in new if n not in old and new[n] == old[o]}
        entries = []
        for path in sorted(set(old) | set(new)):
            if path in renamed:  # reported once, under its new name
                continue
            previous = next((o for o, n in renamed.items() if n == path), None)
            if previous is not None:
                status, before, after = "renamed", old[previous], new[path]
            elif path not in old:
                status, before, after = "added", None, new[path]
            elif path not in new:
                status, before, after = "removed", old[path], None
            elif old[path] != new[path]:
                status, before, after = "modified", old[path], new[path]
            else:
                continue
            patch = _patch(text(before) if before else "", text(after) if after else "")
            lines = patch.splitlines()
            plus = sum(1 for line in lines if line.startswith("+"))
            minus = sum(1 for line in lines if line.startswith("-"))
            entry = {"sha": after or before, "filename": path, "status": status, "additions": plus,
                     "deletions": minus, "changes": plus + minus, "blob_url": f"{self.web}/blob/{sha}/{path}",
                     "raw_url": f"{self.web}/raw/{sha}/{path}",
                     "contents_url": f"{self.repo_url}/contents/{path}?ref={sha}", "patch": patch}
            if previous is not None:
                entry["previous_filename"] = previous
            entries.append(entry)
        return entries

    def pull_json(self, pull: Json, *, full: bool) -> Json:
        fake, number = self.fake, pull["number"]
        url, web = f"{self.repo_url}/pulls/{number}", f"{self.web}/pull/{number}"
        author = self.user_json(*pull.get("user", ["octo-dev", 2001]))
        base_sha = fake.refs.get(f"refs/heads/{pull['base']}", "0" * 40)
        # A merged PR's branch is usually deleted: its head is then the merged commit.
        head_sha = (pull.get("head_sha") or fake.refs.get(f"refs/heads/{pull['head']}")
                    or pull.get("merge_commit_sha") or base_sha)
        side = lambda ref, sha: {"label": f"{fake.owner}:{ref}", "ref": ref, "sha": sha,
                                 "user": self.user_json(fake.owner, 1000), "repo": self.repo_json()}
        links = {"self": url, "html": web, "issue": f"{self.repo_url}/issues/{number}",
                 "comments": f"{self.repo_url}/issues/{number}/comments",
                 "review_comments": f"{url}/comments", "review_comment": f"{self.repo_url}/pulls/comments{{/number}}",
                 "commits": f"{url}/commits", "statuses": f"{self.repo_url}/statuses/{head_sha}"}
        body: Json = {
            "url": url, "id": 70000 + number, "node_id": f"PR_{number}", "html_url": web,
            "diff_url": f"{web}.diff", "patch_url": f"{web}.patch", "issue_url": links["issue"],
            "commits_url": links["commits"], "review_comments_url": links["review_comments"],
            "review_comment_url": links["review_comment"], "comments_url": links["comments"],
            "statuses_url": links["statuses"], "number": number, "state": pull["state"], "locked": False,
            "title": pull["title"], "user": author, "body": pull.get("body") or None, "labels": [],
            "milestone": None, "active_lock_reason": None, "created_at": pull["created_at"],
            "updated_at": pull.get("updated_at") or pull.get("merged_at") or pull.get("closed_at") or pull["created_at"],
            "closed_at": pull.get("closed_at"), "merged_at": pull.get("merged_at"),
            "merge_commit_sha": pull.get("merge_commit_sha"), "assignee": None, "assignees": [],
            "requested_reviewers": [], "requested_teams": [], "head": side(pull["head"], head_sha),
            "base": side(pull["base"], base_sha), "_links": {k: {"href": v} for k, v in links.items()},
            "author_association": "MEMBER", "auto_merge": None, "draft": False}
        if full:
            merged = pull.get("merged_at") is not None
            body.update({"merged": merged, "mergeable": None if merged else True,
                         "mergeable_state": "unknown" if merged else "clean", "rebaseable": None,
                         "merged_by": author if merged else None, "comments": 0, "review_comments": 0,
                         "maintainer_can_modify": False, "commits": 1, "additions": 1, "deletions": 0,
                         "changed_files": 1})
        return body

    def deployment_json(self, deployment: Json) -> Json:
        url = f"{self.repo_url}/deployments/{deployment['id']}"
        return {"url": url, "id": deployment["id"], "node_id": f"DE_{deployment['id']}", "sha": deployment["sha"],
                "ref": deployment.get("ref", self.fake.default_branch), "task": "deploy", "payload": {},
                "original_environment": deployment["environment"], "environment": deployment["environment"],
                "description": deployment.get("description"), "creator": self.user_json("deploy-bot", 3001),
                "created_at": deployment["created_at"], "updated_at": deployment["created_at"],
                "statuses_url": f"{url}/statuses", "repository_url": self.repo_url,
                "transient_environment": False, "production_environment": deployment["environment"] == "production"}

    def content_json(self, path: str, blob: str, ref: str) -> Json:
        data = self.fake.blobs[blob]
        encoded = base64.encodebytes(data).decode()  # GitHub wraps base64 at 60-76 columns too
        url = f"{self.repo_url}/contents/{path}?ref={ref}"
        git = f"{self.repo_url}/git/blobs/{blob}"
        html = f"{self.web}/blob/{ref}/{path}"
        return {"type": "file", "encoding": "base64", "size": len(data), "name": path.rsplit("/", 1)[-1],
                "path": path, "content": encoded, "sha": blob, "url": url, "git_url": git, "html_url": html,
                "download_url": f"https://raw.githubusercontent.com/{self.fake.owner}/{self.fake.name}/{ref}/{path}",
                "_links": {"self": url, "git": git, "html": html}}

    # -- routes -------------------------------------------------------------------------------

    def page(self, items: list[Any], query: dict[str, list[str]], path: str) -> Reply:
        """GitHub's page/per_page pagination with ``Link`` headers built from the public base URL."""
        per_page = max(1, min(int((query.get("per_page") or ["30"])[0]), 100))
        number = max(1, int((query.get("page") or ["1"])[0]))
        last = max(1, -(-len(items) // per_page))
        links = []
        for rel, target in (("prev", number - 1), ("next", number + 1), ("first", 1), ("last", last)):
            if 1 <= target <= last and (rel in ("next", "last") and number < last or rel in ("prev", "first") and number > 1):
                params = {k: v[0] for k, v in query.items()} | {"page": str(target)}
                links.append(f'<{self.base}{path}?{urlencode(params)}>; rel="{rel}"')
        return 200, items[(number - 1) * per_page:number * per_page], {"Link": ", ".join(links)} if links else {}

    def dispatch(self, method: str, parts: list[str], query: dict[str, list[str]], body: Json, path: str) -> Reply:
        fake = self.fake
        arg = lambda name, default=None: (query.get(name) or [default])[0]
        not_found = (404, _error("Not Found", 404), {})
        if parts == [] and method == "GET":
            return 200, self.repo_json(), {}
        if parts == ["commits"] and method == "GET":
            start = fake.resolve(arg("sha", fake.default_branch))
            if start is None:
                return 404, _error("Not Found", 404), {}
            shas = fake.ancestors(start)
            when = lambda s: fake.commits[s]["committer"]["date"]
            since, until = arg("since"), arg("until")
            shas = [s for s in shas if (not since or when(s) >= since) and (not until or when(s) <= until)]
            if arg("path"):
                shas = [s for s in shas if any(f["filename"] == arg("path") for f in self.diff_entries(s))]
            shas.sort(key=when, reverse=True)
            return self.page([self.commit_json(s, files=False) for s in shas], query, path)
        if len(parts) >= 2 and parts[0] == "commits" and method == "GET":
            sha = fake.resolve("/".join(parts[1:-1]) if parts[-1] == "pulls" else "/".join(parts[1:]))
            if sha is None:
                return 422, _error(f"No commit found for SHA: {parts[1]}", 422), {}
            if parts[-1] == "pulls" and len(parts) == 3:
                pulls = [p for p in fake.pulls if sha in (p.get("merge_commit_sha"), p.get("head_sha"))]
                return self.page([self.pull_json(p, full=False) for p in pulls], query, path)
            return 200, self.commit_json(sha, files=True), {}
        if len(parts) >= 2 and parts[0] == "contents" and method == "GET":
            file_path = "/".join(parts[1:])
            ref = arg("ref", fake.default_branch)
            sha = fake.resolve(ref)
            if sha is None:
                return 404, _error(f"No commit found for the ref {ref}", 404), {}
            blob = fake.trees[fake.commits[sha]["tree"]].get(file_path)
            return (200, self.content_json(file_path, blob, ref), {}) if blob else not_found
        if parts[:1] == ["git"] and method == "POST":
            return self.git_write(parts[1:], body)
        if parts == ["git", "trees", parts[-1]] and method == "GET":
            tree = fake.trees.get(parts[-1]) or (
                fake.trees[fake.commits[parts[-1]]["tree"]] if parts[-1] in fake.commits else None)
            if tree is None:
                return not_found
            return 200, self.tree_json(parts[-1], tree), {}
        if parts[:2] == ["git", "commits"] and len(parts) == 3 and method == "GET":
            return (200, self.git_commit_json(parts[2]), {}) if parts[2] in fake.commits else not_found
        if parts[:2] == ["git", "ref"] and method == "GET":
            name = "refs/" + "/".join(parts[2:])
            if name not in fake.refs:
                return not_found
            return 200, self.ref_json(name), {}
        if parts == ["pulls"] and method == "GET":
            return self.list_pulls(query, path)
        if parts == ["pulls"] and method == "POST":
            return self.create_pull(body)
        if parts == ["deployments"] and method == "GET":
            rows = [d for d in fake.deployments if all(not arg(k) or str(d.get(k)) == arg(k)
                                                         for k in ("sha", "ref", "environment"))]
            rows.sort(key=lambda d: d["created_at"], reverse=True)
            return self.page([self.deployment_json(d) for d in rows], query, path)
        return not_found

    def tree_json(self, sha: str, tree: dict[str, str]) -> Json:
        return {"sha": sha, "url": f"{self.repo_url}/git/trees/{sha}", "truncated": False,
                "tree": [{"path": p, "mode": "100644", "type": "blob", "sha": b, "size": len(self.fake.blobs[b]),
                          "url": f"{self.repo_url}/git/blobs/{b}"} for p, b in sorted(tree.items())]}

    def ref_json(self, name: str) -> Json:
        sha = self.fake.refs[name]
        return {"ref": name, "node_id": f"REF_{sha[:10]}", "url": f"{self.repo_url}/git/{name}",
                "object": {"type": "commit", "sha": sha, "url": f"{self.repo_url}/git/commits/{sha}"}}

    def git_write(self, parts: list[str], body: Json) -> Reply:
        fake = self.fake
        invalid = lambda message: (422, {"message": message, "documentation_url": DOCS}, {})
        if parts == ["blobs"]:
            content = body.get("content")
            if not isinstance(content, str):
                return invalid("Invalid request.\n\n\"content\" wasn't supplied.")
            data = base64.b64decode(content) if body.get("encoding") == "base64" else content.encode()
            sha = fake.add_blob(data)
            return 201, {"sha": sha, "url": f"{self.repo_url}/git/blobs/{sha}"}, {
                "Location": f"{self.repo_url}/git/blobs/{sha}"}
        if parts == ["trees"]:
            base = body.get("base_tree")
            if base and base not in fake.trees:
                return invalid("Invalid tree info")
            files = dict(fake.trees[base]) if base else {}
            for item in body.get("tree") or []:
                if item.get("sha") is None and "content" not in item:
                    files.pop(item["path"], None)
                elif "content" in item:
                    files[item["path"]] = fake.add_blob(item["content"].encode())
                elif item["sha"] in fake.blobs and item.get("type") == "blob":
                    files[item["path"]] = item["sha"]
                else:
                    return invalid("Invalid tree info")
            sha = fake.add_tree(files)
            return 201, self.tree_json(sha, files), {"Location": f"{self.repo_url}/git/trees/{sha}"}
        if parts == ["commits"]:
            tree, parents = body.get("tree"), body.get("parents") or []
            if tree not in fake.trees or any(p not in fake.commits for p in parents):
                return invalid("Tree SHA does not exist" if tree not in fake.trees else "Parent SHA does not exist or is not a commit object")
            me = {"name": self.user.get("name", self.user["login"]), "email": self.user.get("email", "bot@example.com"),
                  "date": _now()}
            sha = fake.add_commit(body.get("message", ""), tree, parents, body.get("author") or me,
                                  body.get("committer") or me)
            return 201, self.git_commit_json(sha), {"Location": f"{self.repo_url}/git/commits/{sha}"}
        if parts == ["refs"]:
            name, sha = body.get("ref", ""), body.get("sha")
            if not name.startswith("refs/") or name.count("/") < 2:
                return invalid("Reference name is invalid")
            if "ref" in fake.races and sha in fake.commits:
                # Another writer creates the same branch first, with the same commit.
                fake.races.discard("ref")
                fake.refs[name] = sha
            if name in fake.refs:
                return invalid("Reference already exists")
            if sha not in fake.commits:
                return invalid("Object does not exist")
            fake.refs[name] = sha
            return 201, self.ref_json(name), {"Location": f"{self.repo_url}/git/{name}"}
        return 404, _error("Not Found", 404), {}

    def list_pulls(self, query: dict[str, list[str]], path: str) -> Reply:
        arg = lambda name, default=None: (query.get(name) or [default])[0]
        state, head, base = arg("state", "open"), arg("head"), arg("base")
        rows = [p for p in self.fake.pulls if (state == "all" or p["state"] == state)
                and (not head or f"{self.fake.owner}:{p['head']}" == head) and (not base or p["base"] == base)]
        sort = arg("sort", "created")
        key = {"updated": lambda p: self.pull_json(p, full=False)["updated_at"]}.get(sort, lambda p: p["created_at"])
        rows.sort(key=key, reverse=arg("direction", "desc") == "desc")
        return self.page([self.pull_json(p, full=False) for p in rows], query, path)

    def create_pull(self, body: Json) -> Reply:
        fake = self.fake
        head, base = body.get("head", ""), body.get("base", "")
        head = head.split(":", 1)[1] if ":" in head else head
        failed = lambda field, message: (422, {"message": "Validation Failed", "documentation_url": DOCS, "errors": [
            {"resource": "PullRequest", "code": "custom" if message else "invalid",
             **({"field": field} if field else {}), **({"message": message} if message else {})}]}, {})
        if f"refs/heads/{head}" not in fake.refs:
            return failed("head", None)
        if f"refs/heads/{base}" not in fake.refs:
            return failed("base", None)
        if "pull" in fake.races:
            # Another writer opens the same PR first.
            fake.races.discard("pull")
            self.create_pull({**body, "title": f"{body.get('title', '')} (opened elsewhere)"})
        if any(p["head"] == head and p["base"] == base and p["state"] == "open" for p in fake.pulls):
            return failed(None, f"A pull request already exists for {fake.owner}:{head}.")
        if fake.refs[f"refs/heads/{head}"] == fake.refs[f"refs/heads/{base}"]:
            return failed(None, f"No commits between {base} and {head}")
        number = max([p["number"] for p in fake.pulls] + [0]) + 1
        pull = {"number": number, "title": body.get("title", ""), "body": body.get("body"), "head": head,
                "base": base, "state": "open", "created_at": _now(), "user": [self.user["login"], self.user["id"]],
                "head_sha": fake.refs[f"refs/heads/{head}"]}
        fake.pulls.append(pull)
        return 201, self.pull_json(pull, full=True), {"Location": f"{self.repo_url}/pulls/{number}"}


class FakeServer(ThreadingHTTPServer):
    """The HTTP server, carrying the fake's state for its handlers."""

    daemon_threads = True

    def __init__(self, port: int, fake: FakeGitHub) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.fake = fake


def main(argv: list[str] | None = None) -> None:
    """Serve the fake until killed; print ``READY <port>`` once listening."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--seed", required=True, help="JSON file with the repository's initial data")
    parser.add_argument("--public-url", help="base URL clients reach the fake through (e.g. Prism's)")
    args = parser.parse_args(argv)
    with open(args.seed, encoding="utf-8") as handle:
        fake = FakeGitHub(json.load(handle))
    fake.public_url = args.public_url
    server = FakeServer(args.port, fake)
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
