"""A stand-in for the Hub HTTP API on 127.0.0.1, enough for the real huggingface_hub client's
create_repo, dataset_info, create_branch and upload_folder (preupload, LFS batch + basic PUT +
verify, NDJSON commit). It keeps the committed files so tests can compare bytes."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Like the Hub's default .gitattributes: binary formats go through LFS.
LFS_SUFFIXES = (".parquet", ".png", ".arrow")


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    repo_type: str
    private: bool
    branches: dict[str, dict[str, bytes]] = field(default_factory=lambda: {"main": {}})
    commits: list[dict] = field(default_factory=list)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


class HubStandIn:
    def __init__(self, token: str, all_regular: bool = False) -> None:
        self.token = token
        self.all_regular = all_regular  # True: never ask for LFS (so no xet/LFS transfer at all)
        self.repos: dict[str, Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.requests: list[Seen] = []
        self.creates: list[dict] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HubStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ routing

    def handle(self, method: str, path: str, body: bytes, auth: str | None) -> tuple[int, dict]:
        path = path.split("?", 1)[0]
        if path.startswith("/lfs-upload/"):  # pre-signed storage URL: no Hub auth, like S3
            oid = path.rsplit("/", 1)[1]
            if hashlib.sha256(body).hexdigest() != oid:
                return 400, {"error": "sha256 mismatch"}
            self.lfs[oid] = body
            return 200, {}
        if auth != f"Bearer {self.token}":
            return 401, {"error": "Invalid credentials in Authorization header"}
        if method == "POST" and path == "/api/repos/create":
            return self.create(json.loads(body))
        if method == "POST" and path == "/api/validate-yaml":
            return 200, {"errors": [], "warnings": []}
        if method == "POST" and path == "/lfs-verify":
            return (200, {}) if json.loads(body)["oid"] in self.lfs else (404, {"error": "nope"})
        m = re.fullmatch(r"/datasets/([^/]+/[^/]+)\.git/info/lfs/objects/batch", path)
        if m and method == "POST":
            return self.lfs_batch(m[1], json.loads(body))
        m = re.fullmatch(r"/api/datasets/([^/]+/[^/]+)(?:/revision/([^/]+))?", path)
        if m and method == "GET":
            return self.info(m[1], m[2] or "main")
        m = re.fullmatch(r"/api/datasets/([^/]+/[^/]+)/(preupload|commit|branch)/([^/]+)", path)
        if m and method == "POST":
            repo = self.repos.get(m[1])
            if repo is None:
                return 404, {"error": "Repository not found"}
            if m[2] == "branch":
                repo.branches.setdefault(m[3], dict(repo.branches["main"]))
                return 200, {}
            if m[3] not in repo.branches:
                return 404, {"error": f"Invalid rev id: {m[3]}"}
            if m[2] == "preupload":
                return self.preupload(repo, m[3], json.loads(body))
            return self.commit(m[1], repo, m[3], body)
        return 404, {"error": f"stand-in: no route for {method} {path}"}

    def create(self, payload: dict) -> tuple[int, dict]:
        repo_id = f"{payload['organization']}/{payload['name']}"
        self.creates.append(payload)
        url = f"{self.url}/datasets/{repo_id}"
        if repo_id in self.repos:
            return 409, {"error": "You already created this dataset repo", "url": url}
        private = payload.get("visibility") == "private" or bool(payload.get("private"))
        self.repos[repo_id] = Repo(repo_type=payload.get("type", "model"), private=private)
        return 200, {"url": url}

    def info(self, repo_id: str, revision: str) -> tuple[int, dict]:
        repo = self.repos.get(repo_id)
        if repo is None or revision not in repo.branches:
            return 404, {"error": "Repository not found"}
        sha = repo.commits[-1]["oid"] if repo.commits else "0" * 40
        return 200, {"id": repo_id, "sha": sha, "private": repo.private}

    def preupload(self, repo: Repo, revision: str, payload: dict) -> tuple[int, dict]:
        files = []
        committed = repo.branches[revision]
        for f in payload["files"]:
            lfs = not self.all_regular and f["path"].endswith(LFS_SUFFIXES)
            oid = None
            if f["path"] in committed:  # what the client compares to skip unchanged files
                content = committed[f["path"]]
                oid = hashlib.sha256(content).hexdigest() if lfs else git_blob_sha1(content)
            files.append(
                {
                    "path": f["path"],
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": False,
                    "oid": oid,
                }
            )
        return 200, {"files": files, "commitOid": "0" * 40}

    def lfs_batch(self, repo_id: str, payload: dict) -> tuple[int, dict]:
        if repo_id not in self.repos:
            return 404, {"error": "Repository not found"}
        objects = []
        for obj in payload["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in self.lfs:
                entry["actions"] = {
                    "upload": {"href": f"{self.url}/lfs-upload/{obj['oid']}"},
                    "verify": {"href": f"{self.url}/lfs-verify"},
                }
            objects.append(entry)
        return 200, {"transfer": "basic", "objects": objects}

    def commit(self, repo_id: str, repo: Repo, revision: str, body: bytes) -> tuple[int, dict]:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        if not lines or lines[0]["key"] != "header":
            return 400, {"error": "missing header"}
        changes: dict[str, bytes] = {}
        for line in lines[1:]:
            value = line["value"]
            if line["key"] == "file":
                changes[value["path"]] = base64.b64decode(value["content"])
            elif line["key"] == "lfsFile":
                if value["oid"] not in self.lfs:
                    return 400, {"error": f"LFS object {value['oid']} was never uploaded"}
                changes[value["path"]] = self.lfs[value["oid"]]
            else:
                return 400, {"error": f"stand-in does not support {line['key']}"}
        oid = hashlib.sha1(body).hexdigest()
        repo.branches[revision].update(changes)
        repo.commits.append(
            {
                "oid": oid,
                "revision": revision,
                "summary": lines[0]["value"]["summary"],
                "paths": sorted(changes),
                "lines": [line["key"] for line in lines[1:]],
            }
        )
        url = f"{self.url}/datasets/{repo_id}/commit/{oid}"
        return 200, {"commitUrl": url, "commitOid": oid, "pullRequestUrl": None}

    # ------------------------------------------------------------------ HTTP plumbing

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep pytest output clean
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _serve(self) -> None:
                body = self._body()
                with standin._lock:
                    standin.requests.append(
                        Seen(
                            self.command, self.path, {k.lower(): v for k, v in self.headers.items()}
                        )
                    )
                    status, payload = standin.handle(
                        self.command, self.path, body, self.headers.get("Authorization")
                    )
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                if status == 404 and "Repository" in payload.get("error", ""):
                    self.send_header("X-Error-Code", "RepoNotFound")
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = _serve

        return Handler
