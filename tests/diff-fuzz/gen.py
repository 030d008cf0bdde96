# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate a random but valid Dockerfile and build context from a seed.

    python3 gen.py SEED [OUT.json]

The same seed gives the same case, byte for byte (random.Random(seed), no other input). A case
is a JSON document (dfz.py materialises it and builds it):

    seed        the seed
    dockerfile  the instructions, one string each (a heredoc instruction holds its body)
    context     entries: {path, type f|d|l|h|tar, mode, content, target, xattrs, entries}
    build_args  {name: value}, given to both builders
    secrets     {id: content}, given as --secret id=ID,src=FILE
    ssh         true when a RUN mounts the ssh agent (the harness starts one)
    modern      true when the Dockerfile uses what docker 20.10's frontend lacks (heredocs,
                COPY --link); then `lowered` holds the same build in 20.10's syntax, whose files
                BuildKit must agree with

The generator keeps a rough model of each stage's files (under a few roots) so that its RUN
steps rename, delete, chmod, link and replace paths that exist; a step never fails on its own.
"""
import json
import random
import sys

BASE = "busybox"
USERS = ["root", "app", "nobody", "1000", "0", "1234"]
GROUPS = ["root", "staff", "app", "nogroup", "50", "0", "4321"]
MODES = ["0644", "0600", "0755", "0700", "0444", "0640", "4755", "2755", "1777", "0777", "0511"]
WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta"]
ROOTS = ["/w", "/data", "/opt/app", "/srv"]


class Stage:
    def __init__(self, name, parent=None):
        self.name = name
        # path -> "f" | "d" | "l" (what the model believes the image holds)
        self.paths = dict(parent.paths) if parent else {
            "/etc/passwd": "f", "/etc/group": "f", "/root": "d", "/tmp": "d", "/etc": "d",
            "/bin/vi": "l", "/bin/cat": "l"}
        self.user_root = True
        self.users = list(parent.users) if parent else []   # (user, group) added by a RUN (v3)
        self.env = dict(parent.env) if parent else {}       # ENV with known literal values (v3)
        self.workdir = "/"
        self.layers = 0
        self.onbuild = list(parent.onbuild) if parent else []


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.seed = seed
        self.df = []          # the Dockerfile, one instruction a string
        self.low = []         # the same in 20.10's syntax (modern cases)
        self.ctx = []
        self.ctx_paths = {}   # context path -> type
        self.build_args = {}
        self.secrets = {}
        self.ssh = False
        self.modern = False
        self.ignore = False
        self.esc = "\\"
        self.stages = []
        self.counter = 0
        self.repeatable = False
        self.idem = True
        # v3 (seeds from 30000): the areas below marked v3; earlier seeds give their old cases
        self.v3 = seed >= 30000
        # v4 (seeds from 33000): USER and --chown with empty parts and unknown names, ADD
        # --chmod of archives (FINDINGS F36, F40, F41)
        self.v4 = seed >= 33000
        # v5 (seeds from 40000): Dockerfiles with one line BuildKit may refuse (`invalid`),
        # config instructions in every stage (inherited by child stages: ENTRYPOINT resets an
        # inherited CMD, HEALTHCHECK NONE), ONBUILD of config instructions, FROM --platform,
        # stage names in other cases, WORKDIR chains, LABEL continuations with comments and
        # empty lines, VOLUME then writes under it, ENV order, glob metacharacters in names
        self.v5 = seed >= 40000
        # v6 (seeds from 50000): the root's spellings in WORKDIR, archives with long names and
        # link targets (PAX, GNU, ustar), sparse files, duplicate entries, symlink chains and
        # entries through symlinks, ADD over the image's symlinks; COPY --from of symlinked
        # directories; --chown and USER with ids beyond 65535 and names only /etc/group has;
        # COPY destinations spelled with `.`, `..` and `//` into deep new directories; ARGs in
        # FROM --platform
        self.v6 = seed >= 50000
        # v7 (seeds from 60000): what the layers' headers tell apart (harness v7): ADDed
        # archives whose entries replace a directory, file or symlink of the image (F66),
        # WORKDIR of directories that exist (F68), no-op metadata changes (F70), whiteouts and
        # opaque directories with owners and modes of their own (F67)
        self.v7 = seed >= 60000
        self.twin_ctx = False  # the twin context differs (zstd archives, --exclude, --parents)
        self.odd = []          # context files with spaces, unicode, punctuation in their names

    # ---- helpers -------------------------------------------------------------------------
    def uniq(self, stem="n"):
        self.counter += 1
        return "%s%d" % (stem, self.counter)

    def word(self):
        return self.r.choice(WORDS)

    def emit(self, line, lowered=None, repeatable=False):
        # repeatable: the same instruction again gives the same layer again and cannot fail
        self.repeatable = repeatable
        self.df.append(line)
        self.low.append(line if lowered is None else lowered)

    def pick(self, st, types, under_roots=True):
        c = [p for p, t in st.paths.items() if t in types and
             (not under_roots or any(p == r or p.startswith(r + "/") for r in ROOTS))]
        return self.r.choice(sorted(c)) if c else None

    def fresh(self, st, root=None):
        root = root or self.r.choice(ROOTS)
        dirs = [p for p, t in st.paths.items() if t == "d" and (p == root or p.startswith(root + "/"))]
        parent = self.r.choice(sorted(dirs)) if dirs and self.r.random() < 0.7 else root
        return parent + "/" + self.uniq(self.r.choice(["f", "d", "x", "sub"]))

    def add_path(self, st, path, t):
        # the parents exist as directories (mkdir -p made them)
        parts = path.strip("/").split("/")
        for i in range(1, len(parts)):
            st.paths.setdefault("/" + "/".join(parts[:i]), "d")
        self.drop(st, path)
        st.paths[path] = t

    def drop(self, st, path):
        for p in [p for p in st.paths if p == path or p.startswith(path + "/")]:
            del st.paths[p]

    def move(self, st, src, dst):
        moved = {dst + p[len(src):]: t for p, t in st.paths.items() if p == src or p.startswith(src + "/")}
        self.drop(st, src)
        for p, t in moved.items():
            self.add_path(st, p, t)

    # ---- the context -----------------------------------------------------------------------
    def make_context(self):
        n = self.r.randint(3, 10)
        dirs = [""]
        for _ in range(n):
            kind = self.r.choices(["f", "d", "l", "h", "x"], [6, 3, 1.5, 1, 1])[0]
            parent = self.r.choice(dirs)
            path = (parent + "/" if parent else "") + self.uniq("c")
            mode = self.r.choice(["0644", "0644", "0755", "0600", "0700", "0640", "4755", "2755", "0000", "0444"])
            if kind in ("f", "x"):
                e = {"path": path + (".txt" if self.r.random() < 0.5 else ""), "type": "f", "mode": mode,
                     "content": " ".join(self.r.choice(WORDS) for _ in range(self.r.randint(0, 6)))}
                if kind == "x":
                    e["xattrs"] = {"user." + self.word(): self.word()}
                self.ctx.append(e)
                self.ctx_paths[e["path"]] = "f"
            elif kind == "d":
                self.ctx.append({"path": path, "type": "d", "mode": self.r.choice(["0755", "0755", "0700", "0750", "1777", "2755"])})
                self.ctx_paths[path] = "d"
                dirs.append(path)
            elif kind == "l":
                files = [p for p, t in self.ctx_paths.items() if t == "f" and "/" not in p]
                if files and parent == "":
                    self.ctx.append({"path": path, "type": "l", "target": self.r.choice(files)})
                    self.ctx_paths[path] = "l"
                elif parent:
                    # dangling: copied only with its directory
                    self.ctx.append({"path": path, "type": "l", "target": self.r.choice(["nowhere", "../x"])})
                    self.ctx_paths[path] = "dl"
            else:
                files = sorted(p for p, t in self.ctx_paths.items() if t == "f")
                if files:
                    self.ctx.append({"path": path, "type": "h", "target": self.r.choice(files)})
                    self.ctx_paths[path] = "f"
        if self.r.random() < 0.25:
            self.make_tar()
        if self.r.random() < 0.1:
            # a gzip of a file that is no tar: ADD copies it as it is
            name = self.uniq("plain") + ".gz"
            self.ctx.append({"path": name, "type": "gz", "content": self.word()})
            self.ctx_paths[name] = "tar"
        if self.v3:
            self.make_context_v3(dirs)
        if self.r.random() < 0.3:
            self.make_ignore(dirs)

    def make_context_v3(self, dirs):
        """v3: names with spaces, unicode and punctuation; times of their own (old, recent,
        the epoch's first day); top-level symlinks to directories and to other links."""
        r = self.r
        for _ in range(r.choice([0, 0, 1, 2, 3])):
            parent = r.choice(dirs)
            name = r.choice(["c %d.txt", "ü%d", "c@%d", "c+%d=x", "c,%d", "c#%d", "ç é%d", "c%%%d",
                             "c'%d", "c(%d)", "c~%d", "-c%d", "c%d.", "日本%d"]) % self.counter
            self.counter += 1
            path = (parent + "/" if parent else "") + name
            self.ctx.append({"path": path, "type": "f", "mode": r.choice(["0644", "0755", "0600"]),
                             "content": self.word()})
            self.ctx_paths[path] = "f"
            self.odd.append(path)
        if r.random() < 0.4:
            name = self.uniq("sd") + r.choice([" dir", "ä", "@x"])
            self.ctx.append({"path": name, "type": "d", "mode": "0755"})
            self.ctx.append({"path": name + "/in file", "type": "f", "mode": "0644", "content": self.word()})
            self.ctx_paths[name] = "d"
            self.ctx_paths[name + "/in file"] = "f"
            self.odd.append(name)
        for e in self.ctx:
            if e["type"] in ("f", "d", "l") and r.random() < 0.3:
                e["mtime"] = r.choice([86400, 1000000000, 1234567890, 1599999999, 1600000001, 1650000000])
        tops = [p for p, t in self.ctx_paths.items() if "/" not in p and t in ("d", "l") and p not in self.odd]
        if tops and r.random() < 0.4:
            path = self.uniq("c") + "L"
            self.ctx.append({"path": path, "type": "l", "target": r.choice(sorted(tops))})
            self.ctx_paths[path] = "l"

    def make_ignore(self, dirs):
        """A .dockerignore over files of their own (ig*.log, never named by a COPY, so that an
        instruction never fails on them): Go's filepath.Match patterns, `**`, exceptions `!`,
        a leading `/`, comments, directories excluded with re-included children."""
        r = self.r
        sub = r.choice([d for d in dirs if d] or ["igd"])
        if sub == "igd":
            self.ctx.append({"path": "igd", "type": "d", "mode": "0755"})
        for p in ["ig1.log", "ig2.log", "keep.log", sub + "/ig3.log", sub + "/keep.log",
                  sub + "/deep/ig4.log", sub + "/deep/keep.log"]:
            self.ctx.append({"path": p, "type": "f", "mode": "0644", "content": p})
        pats = r.sample(["*.log", "**/*.log", "!keep.log", "!**/keep.log", "/ig1.log", "ig?.log",
                         sub + "/*.log", sub + "/**", "!" + sub + "/deep/keep.log", sub + "/deep",
                         "# a comment", "", "**/ig4.log", "./ig2.log", sub + "/../ig2.log",
                         r.choice([".dockerignore", "Dockerfile", "ig[0-9].log"])], r.randint(1, 6))
        self.ctx.append({"path": ".dockerignore", "type": "f", "mode": "0644", "content": "\n".join(pats) + "\n"})
        self.ignore = True

    def make_tar(self):
        entries = []
        top = self.uniq("t")
        entries.append({"path": top, "type": "d", "mode": "0755", "uid": 0, "gid": 0})
        for _ in range(self.r.randint(1, 5)):
            kind = self.r.choice(["f", "f", "d", "l", "h", "c", "p", "s"])
            p = top + "/" + self.uniq("e")
            if kind == "f":
                e = {"path": p, "type": "f", "mode": self.r.choice(MODES[:6]), "content": self.word(),
                     "uid": self.r.choice([0, 1000, 123]), "gid": self.r.choice([0, 50, 456])}
                if self.r.random() < 0.3:
                    e["xattrs"] = {"user." + self.word(): self.word()}
            elif kind == "d":
                e = {"path": p, "type": "d", "mode": self.r.choice(["0755", "0700", "1777", "2775"]), "uid": 0, "gid": 0}
            elif kind == "c":
                # a device node (both builders run as root: made as it is)
                e = {"path": p, "type": "c", "mode": "0666", "major": 1, "minor": self.r.choice([3, 5, 7])}
            elif kind == "p":
                e = {"path": p, "type": "p", "mode": "0644"}
            elif kind == "s":
                # setuid/setgid files and large owners
                e = {"path": p, "type": "f", "mode": self.r.choice(["4755", "2755", "6711", "0000"]), "content": self.word(),
                     "uid": self.r.choice([65534, 100000, 2147483647]), "gid": self.r.choice([65534, 100000, 0])}
            elif kind == "l":
                e = {"path": p, "type": "l", "target": self.r.choice(["e1", "../x", "/etc/passwd"])}
            else:
                fs = [x["path"] for x in entries if x["type"] == "f"]
                if not fs:
                    continue
                # a hard link's header says what its target's does, as tar writes it (F10)
                t = self.r.choice([x for x in entries if x["type"] == "f"])
                e = {"path": p, "type": "h", "target": t["path"], "mode": t["mode"], "uid": t["uid"], "gid": t["gid"]}
            entries.append(e)
        name = self.uniq("arch") + self.r.choice([".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar.gz"] +
                                                 ([".tar.zst"] * 2 if self.v3 else []))
        e = {"path": name, "type": "tar", "entries": entries}
        if name.endswith(".zst"):
            # 20.10 unpacks no zstd (moby 23 does): its twin gets the same tar gzipped
            e["lowered_as"] = ".gz"
            self.twin_ctx = True
        self.ctx.append(e)
        self.ctx_paths[name] = "tar"

    # ---- instructions ------------------------------------------------------------------------
    def gen(self):
        self.make_context()
        if self.r.random() < 0.1:
            # the escape directive: continuations (and ENV escapes) use a backtick
            self.esc = "`"
            self.emit("# escape=`")
        if self.r.random() < 0.25:
            # a global ARG, redeclared by stages (ARG GV) to be seen
            if self.r.random() < 0.4:
                self.build_args["GV"] = "cli-" + self.word()
            self.emit("ARG GV=gl-%s" % self.word())
        if self.r.random() < 0.2:
            self.build_args["BASE"] = BASE
            self.emit("ARG BASE=nothing-here")
        self.plat6 = self.v6 and self.r.random() < 0.2
        if self.plat6:
            # v6: a global ARG for FROM --platform (a build arg, or its default)
            if self.r.random() < 0.4:
                self.build_args["PL6"] = "linux/amd64"
            self.emit("ARG PL6=%s" % self.r.choice(["linux/amd64", "$BUILDPLATFORM", "${TARGETPLATFORM}"]))
        # v3: --exclude/--parents need sources only bale's context holds: no COPY . then
        self.twin_plan = self.v3 and self.r.random() < 0.2
        # v3: a base image built first (tagged dfzbase-SEED) whose ONBUILD triggers the
        # first stage runs: triggers from an image's config, not from a stage
        # (v3.1: from seed 31000, so that 30000-30999 keep the cases their runs built)
        self.base = self.make_base() if self.seed >= 31000 and self.r.random() < (0.3 if self.seed >= 43000 else 0.12) else None
        nstages = self.r.choices([1, 2, 3], [6, 3, 1])[0]
        for i in range(nstages):
            self.stage(i, i == nstages - 1)
        if self.base:
            self.base["triggers"] = None
        invalid = self.invalid() if self.v5 and self.r.random() < 0.2 else None
        return {"seed": self.seed, "invalid": invalid, "base": self.base, "dockerfile": self.df, "ignore": self.ignore, "context": self.ctx,
                "build_args": self.build_args, "secrets": self.secrets, "ssh": self.ssh,
                "modern": self.modern, "lowered": self.low if self.modern else None, "twin_ctx": self.twin_ctx}

    def stage(self, i, last):
        name = "s%d" % i
        parent = None
        base = "$BASE" if "BASE" in self.build_args and self.r.random() < 0.5 else BASE
        if base == BASE and self.r.random() < 0.1:
            base = self.r.choice(["${NOPE:-busybox}", "${GV:+busybox}"]) if any(l.startswith("ARG GV=") for l in self.df) else "${NOPE:-busybox}"
        if self.stages and self.r.random() < 0.35:
            parent = self.r.choice(self.stages)
            base = parent.name
        elif i == 0 and self.base:
            base = self.base["tag"]
        st = Stage(name, parent)
        if i == 0 and self.base and base == self.base["tag"]:
            for kind, path in self.base["triggers"]:
                self.trigger(st, kind, path)
        shown = name
        plat = ""
        if self.v5:
            # stage names are case-insensitive; FROM --platform of the build's own platform
            shown = self.r.choice([name, name, name.upper()])
            if self.r.random() < 0.15:
                plat = self.r.choice(([] if not self.v6 else
                                      ["--platform=${TARGETOS}/${TARGETARCH} ", "--platform=$BUILDOS/$BUILDARCH "] +
                                      ["--platform=$PL6 ", "--platform=${PL6:-linux/amd64} "] * self.plat6) +
                                     ["--platform=$BUILDPLATFORM ", "--platform=$TARGETPLATFORM ",
                                      "--platform=linux/amd64 ", "--platform=${BUILDPLATFORM} "])
        self.emit("FROM %s%s %s %s" % (plat, base, self.r.choice(["AS", "as"]) if self.v5 else "AS", shown))
        if parent and parent.onbuild:
            # the parent's triggers run first
            for kind, path in parent.onbuild:
                self.trigger(st, kind, path)
            st.onbuild = []
        self.stages.append(st)
        for _ in range(self.r.randint(2, 7 if last else 4)):
            self.step(st)
        if (last or self.v5) and self.r.random() < 0.5:
            self.metadata(st)

    def trigger(self, st, kind, path):
        """What an ONBUILD trigger leaves in the stage that runs it."""
        if kind == "user":
            st.user_root = False
        elif kind != "cfg":
            self.add_path(st, path, kind)

    def step(self, st):
        if not st.user_root and self.r.random() < 0.5:
            self.emit("USER root")
            st.user_root = True
        if self.df and self.r.random() < 0.08 and self.repeatable:
            # the same step twice: the same layer twice in the stack
            self.emit(self.df[-1], self.low[-1])
            return
        w = [("run", 10), ("copy", 6), ("add", 1.5), ("workdir", 1.5), ("env", 1.2), ("arg", 1),
             ("user", 1), ("mount", 2.5), ("shell", 0.4), ("onbuild", 0.5), ("meta", 1),
             ("heredoc", 0.8), ("empty", 0.6), ("expand", 2), ("garg", 0.5)]
        if self.v3:
            w += [("fromimg", 0.8), ("adduser", 0.8), ("lex", 1.5), ("heredoc3", 1), ("scope", 1.2),
                  ("shellform", 0.6), ("merge", 0.8), ("exclude", 0.5), ("parents", 0.5), ("symchmod", 0.6),
                  ("escapes", 0.8), ("onbuild3", 0.5), ("odd", 1.5)]
        if self.v5:
            w += [("onbuild5", 0.8), ("workdir5", 0.8), ("label5", 0.6), ("config5", 1.2), ("volume5", 0.5),
                  ("envorder5", 0.6), ("glob5", 0.6), ("argscope5", 0.8), ("fromstage5", 0.5)]
        if self.seed >= 42000:
            # v5.1: archives whose names do not say what they are (seeds 40000-41999 keep
            # the cases their runs built)
            w += [("archive5", 0.8)]
        if self.v6:
            w += [("wdroot6", 3), ("archive6", 4), ("fromlink6", 2), ("chown6", 2.5), ("dest6", 2.5),
                  ("shell6", 1)]
        if self.v7:
            w += [("replace7", 3), ("wdexist7", 2), ("noop7", 1), ("rmdir7", 2)]
        kind = self.r.choices([k for k, _ in w], [x for _, x in w])[0]
        if kind in ("run", "mount", "heredoc", "env", "arg", "expand", "garg", "lex", "heredoc3", "scope",
                    "shellform", "merge", "adduser", "escapes", "workdir5", "volume5", "envorder5",
                    "argscope5", "chown6", "shell6", "replace7", "noop7", "rmdir7") and not st.user_root:
            self.user_run(st)
            return
        getattr(self, "i_" + kind)(st)

    # RUN: a few file operations joined by &&
    def op(self, st):
        r = self.r
        kind = r.choices(["mk", "mkdir", "rm", "mv", "chmod", "chown", "ln", "sym", "d2f", "f2d",
                          "opq", "append", "fifo", "rmbase", "touch"],
                         [5, 3, 2, 2, 2, 2, 1.5, 2, 1, 1, 1.5, 1, 0.3, 0.5, 0.8])[0]
        if kind == "mk":
            p = self.fresh(st)
            self.add_path(st, p, "f")
            return "mkdir -p %s && echo %s > %s" % (p.rsplit("/", 1)[0], self.word(), p)
        if kind == "mkdir":
            p = self.fresh(st)
            self.add_path(st, p, "d")
            m = r.choice(["", "-m 700 ", "-m 2775 ", "-m 1777 "])
            if m:
                self.idem = False
            return "mkdir -p %s%s" % (m, p) if not m else "mkdir -p %s && (mkdir %s%s || true)" % (p.rsplit("/", 1)[0], m, p)
        if kind == "rm":
            p = self.pick(st, "fdl")
            if not p:
                return None
            self.drop(st, p)
            return "rm -rf %s" % p
        if kind == "mv":
            p = self.pick(st, "fdl")
            if not p or p in ROOTS:
                return None
            q = self.fresh(st)
            if q.startswith(p + "/"):
                return None
            self.move(st, p, q)
            self.idem = False
            return "mkdir -p %s && (mv %s %s || true)" % (q.rsplit("/", 1)[0], p, q)
        if kind == "chmod":
            p = self.pick(st, "fd")
            return p and "(chmod %s %s || true)" % (r.choice(MODES), p)
        if kind == "chown":
            p = self.pick(st, "fdl")
            if not p:
                return None
            flag = "-h " if st.paths[p] == "l" else r.choice(["", "-R "]) if st.paths[p] == "d" else ""
            return "(chown %s%s:%s %s || true)" % (flag, r.choice(USERS[:4] + ["1234"]), r.choice(GROUPS), p)
        if kind == "ln":
            p = self.pick(st, "f")
            if not p:
                return None
            q = self.fresh(st, p.split("/")[1] if False else None)
            self.add_path(st, q, "f")
            self.idem = False
            return "mkdir -p %s && (ln %s %s || true)" % (q.rsplit("/", 1)[0], p, q)
        if kind == "sym":
            q = self.fresh(st)
            t = r.choice([self.pick(st, "fd") or "/tmp", "/tmp", "../x", "/", "nowhere", "/etc"])
            self.add_path(st, q, "l")
            return "mkdir -p %s && ln -sfn %s %s" % (q.rsplit("/", 1)[0], t, q)
        if kind == "d2f":
            p = self.pick(st, "d")
            if not p or p in ROOTS:
                return None
            self.drop(st, p)
            st.paths[p] = "f"
            return "rm -rf %s && echo %s > %s" % (p, self.word(), p)
        if kind == "f2d":
            p = self.pick(st, "f")
            if not p:
                return None
            self.add_path(st, p, "d")
            self.add_path(st, p + "/inner", "f")
            return "rm -rf %s && mkdir %s && echo in > %s/inner" % (p, p, p)
        if kind == "opq":
            p = self.pick(st, "d", under_roots=r.random() < 0.8)
            if not p or p in ("/etc", "/bin"):
                p = self.pick(st, "d")
            if not p:
                return None
            self.drop(st, p)
            self.add_path(st, p, "d")
            self.add_path(st, p + "/new", "f")
            return "rm -rf %s && mkdir -p %s && echo %s > %s/new" % (p, p, self.word(), p)
        if kind == "append":
            p = self.pick(st, "f")
            self.idem = False
            return p and "(echo %s >> %s || true)" % (self.word(), p)
        if kind == "fifo":
            p = self.fresh(st)
            # "p": never written to (an open for writing would wait for a reader forever)
            self.add_path(st, p, "p")
            self.idem = False
            return "mkdir -p %s && (mkfifo %s || true)" % (p.rsplit("/", 1)[0], p)
        if kind == "rmbase":
            p = r.choice(["/bin/vi", "/etc/group", "/root", "/bin/cat"])
            if p not in st.paths:
                return None
            self.drop(st, p)
            return "rm -rf %s" % p
        if kind == "touch":
            p = self.fresh(st)
            self.add_path(st, p, "f")
            self.idem = False
            return "mkdir -p %s && touch %s" % (p.rsplit("/", 1)[0], p)
        return None

    def run_body(self, st):
        self.idem = True
        ops = [o for o in (self.op(st) for _ in range(self.r.randint(1, 4))) if o]
        return " && ".join(ops) if ops else "true"

    def i_run(self, st):
        body = self.run_body(st)
        if self.r.random() < 0.3:
            self.emit('RUN ["/bin/sh", "-c", %s]' % json.dumps(body), repeatable=self.idem)
        elif " && " in body and self.r.random() < 0.3:
            # line continuations, with a comment line between two parts
            parts = body.split(" && ")
            lines = [parts[0]]
            for x in parts[1:]:
                if self.r.random() < 0.3:
                    lines.append("# between " + self.word())
                lines.append("  && " + x)
            out = []
            for i, l in enumerate(lines):
                last = i == len(lines) - 1
                out.append(l if l.startswith("#") or last else l + " " + self.esc)
                if self.v3 and not last and self.r.random() < 0.3:
                    # an empty line inside the continuation (ignored, with a warning)
                    out.append(self.r.choice(["", "   "]))
            self.emit("RUN " + "\n".join(out), repeatable=self.idem)
        else:
            self.emit("RUN " + body, repeatable=self.idem)

    def i_empty(self, st):
        # steps that change nothing (the same empty layer each time)
        self.emit(self.r.choice(["RUN true", "RUN echo nothing", "RUN ls / > /dev/null"]), repeatable=True)

    def user_run(self, st):
        p = "/tmp/" + self.uniq("u")
        self.emit(self.r.choice(["RUN touch %s && id > %s.id" % (p, p), "RUN mkdir -p %s && echo $HOME > %s/home" % (p, p),
                                 "RUN echo $(id -u):$(id -g) > %s" % p,
                                 # what the step's process sees of its host: its PID, the host
                                 # name, the environment, /etc/hosts (BuildKit: 1,
                                 # buildkitsandbox, no HOSTNAME)
                                 "RUN (echo $$; hostname; env | sort; cat /etc/hosts) > %s" % p]))
        st.paths[p] = "f"

    # COPY and ADD
    def copy_src(self):
        r = self.r
        c = [p for p, t in self.ctx_paths.items() if t in ("f", "d", "l")]
        if not c:
            return None
        kind = r.random()
        whole = not (self.twin_ctx or getattr(self, "twin_plan", False))
        if kind < 0.06 and whole:
            return "."
        if kind < 0.2:
            # a glob over the top level or a directory
            # over directories without dangling links (a match that leads nowhere is an error)
            d = r.choice([""] + [p for p, t in self.ctx_paths.items() if t == "d" and
                                 not any(q.startswith(p + "/") and u == "dl" for q, u in self.ctx_paths.items())])
            return (d + "/" if d else "") + r.choice(["*" if d or whole else "c*", "c*", "*.txt", "c?", "[c]*"])
        return r.choice(sorted(c))

    def copy_dest(self, st, src_is_dir_or_many):
        r = self.r
        kind = r.random()
        links = [p for p, t in st.paths.items() if t == "l" and any(p.startswith(x + "/") for x in ROOTS)]
        if kind < 0.15 and links:
            # through a symlink of the image
            return r.choice(sorted(links)) + "/" + r.choice(["", "x"])
        if kind < 0.3 and st.workdir != "/":
            return r.choice([".", "./", "rel/", "rel"])
        if kind < 0.45:
            d = self.pick(st, "d") or "/w"
            return d + "/"
        p = self.fresh(st)
        return p + ("/" if src_is_dir_or_many or r.random() < 0.5 else "")

    def flags(self, st, chmod=True):
        f = []
        if self.r.random() < 0.25:
            u = self.r.choice(["app", "1000", "nobody", "root", "1234", "100000", "2147483647"])
            if st.users and self.r.random() < 0.5:
                # a user and group a RUN added to /etc/passwd and /etc/group (v3)
                u, g = self.r.choice(st.users)
                f.append("--chown=%s" % self.r.choice([u, u + ":" + g, u + ":0", "root:" + g]))
            elif self.v4 and self.r.random() < 0.3:
                # names the image lacks: BuildKit's readUser leaves 0, or the user's group (F36)
                f.append("--chown=%s" % self.r.choice(["nosuch", "app:nosuch", "nosuch:staff", "1234:nosuch", "app:", ":staff"]))
            else:
                f.append("--chown=%s" % (u if self.r.random() < 0.4 else u + ":" + self.r.choice(["staff", "50", "app", "0", "nogroup", "65534", "100000"])))
        if chmod and self.r.random() < 0.2:
            f.append("--chmod=%s" % self.r.choice(["600", "0755", "0640", "755", "700"]))
        return f

    def note_dest(self, st, dest):
        if dest.startswith("/"):
            d = dest.rstrip("/")
            if d and not any(d.startswith(l + "/") or d == l for l, t in st.paths.items() if t == "l"):
                if d not in st.paths:
                    self.add_path(st, d, "d" if dest.endswith("/") else "f")

    def i_copy(self, st):
        r = self.r
        if self.stages[:-1] and r.random() < 0.3:
            return self.copy_from(st)
        nsrc = r.choices([1, 2, 3], [6, 2, 1])[0]
        srcs = [s for s in (self.copy_src() for _ in range(nsrc)) if s]
        if not srcs:
            return
        srcs = sorted(set(srcs), key=srcs.index)
        many = len(srcs) > 1 or any("*" in s or "?" in s or "[" in s or self.ctx_paths.get(s) == "d" for s in srcs)
        dest = self.copy_dest(st, many)
        if many and not dest.endswith("/") and dest not in (".",):
            dest += "/"
        flags = self.flags(st)
        link = r.random() < 0.12 and dest.startswith("/") and not any(t == "l" for p, t in st.paths.items() if dest.startswith(p + "/"))
        if link:
            # --link to a directory of its own (its parents would come from the layer)
            self.modern = True
            dest = "/lnk%s/" % self.uniq("") + (dest.rstrip("/").rsplit("/", 1)[-1] + ("/" if dest.endswith("/") else ""))
        line = copy_line("COPY", flags, srcs, dest)
        low = line
        if link:
            line = copy_line("COPY", ["--link"] + flags, srcs, dest)
        self.emit(line, low, repeatable=True)
        self.note_dest(st, dest)

    def copy_from(self, st):
        r = self.r
        src = r.choice(self.stages[:-1])
        paths = [p for p, t in src.paths.items() if t in "fd" and any(p.startswith(x) for x in ROOTS + ["/etc", "/tmp/u"])]
        if not paths:
            paths = ["/etc/passwd"]
        p = r.choice(sorted(paths))
        dest = self.copy_dest(st, src.paths.get(p) == "d")
        ref = src.name if r.random() < 0.8 else str(self.stages.index(src))
        self.emit("COPY %s--from=%s %s %s" % ("".join(x + " " for x in self.flags(st)), ref, p, dest), repeatable=True)
        self.note_dest(st, dest)

    def i_add(self, st):
        # (not v6's archives: 20.10 keeps an archive's owners under --chown, F14, whose
        # signature knows make_tar's names)
        tars = [p for p, t in self.ctx_paths.items() if t == "tar" and not p.startswith("ar6_")]
        if tars and self.r.random() < 0.7:
            src = self.r.choice(tars)
        else:
            src = self.copy_src()
            if not src:
                return
        dest = self.fresh(st) + "/"
        # v4: --chmod too, which BuildKit's unpack ignores for an archive (F40)
        self.emit(copy_line("ADD", self.flags(st, chmod=self.v4), [src], dest), repeatable=True)
        self.note_dest(st, dest)

    def i_workdir(self, st):
        r = self.r
        if r.random() < 0.3 and st.workdir != "/":
            wd = self.uniq("wd")
            st.workdir = st.workdir.rstrip("/") + "/" + wd
            self.emit("WORKDIR " + wd)
        else:
            d = self.pick(st, "d") if r.random() < 0.3 else None
            st.workdir = d or self.fresh(st)
            self.emit("WORKDIR " + st.workdir)
        self.add_path(st, st.workdir, "d")

    def i_env(self, st):
        k = self.r.choice(["FOO", "BAR", "PATH", "HOME", "ZED"])
        v = {"PATH": "/opt/bin:$PATH", "HOME": "/root/h"}.get(k, self.word() + "-${FOO:-dflt}")
        self.emit("ENV %s=%s" % (k, v) if self.r.random() < 0.7 else "ENV %s %s" % (k, v), repeatable=True)
        if self.r.random() < 0.5:
            p = self.fresh(st)
            self.add_path(st, p, "f")
            self.emit("RUN mkdir -p %s && echo \"$%s|$FOO\" > %s" % (p.rsplit("/", 1)[0], k, p))

    def i_arg(self, st):
        k = self.r.choice(["A1", "A2", "A3"])
        if self.r.random() < 0.4:
            self.build_args[k] = self.word()
        self.emit("ARG %s" % k if self.r.random() < 0.3 else "ARG %s=%s" % (k, self.word()))
        p = self.fresh(st)
        self.add_path(st, p, "f")
        self.emit("RUN mkdir -p %s && echo \"${%s:-none}\" > %s" % (p.rsplit("/", 1)[0], k, p))

    def i_expand(self, st):
        """ENV, ARG, LABEL, WORKDIR, EXPOSE with the shell-word expansion's edge cases, and a
        RUN that writes what the variables hold."""
        r = self.r
        e = self.esc
        k = r.randint(0, 9)
        names = []
        if k == 0:
            # one ENV, several pairs: E3 sees E1's value before this instruction
            self.emit('ENV E1=one E2="two words" E3=$E1-x')
            names = ["E1", "E2", "E3"]
        elif k == 1:
            self.emit("ENV E4=${FOO:+set-$FOO} E5=${UNSET:-def} E6=${FOO:-d}${BAR:+b}")
            names = ["E4", "E5", "E6"]
        elif k == 2:
            self.emit("ENV E7='single $FOO' E8=\"dq %s$FOO $FOO\" E9=a%s b%s c" % (e, e, e))
            names = ["E7", "E8", "E9"]
        elif k == 3:
            self.emit("ARG A4=${FOO:-fb}")
            names = ["A4"]
        elif k == 4:
            self.emit("LABEL l1=$FOO l2=\"${BAR:-nob}\" \"l 3\"='$FOO' l4=${FOO}${FOO}")
            return
        elif k == 5:
            self.emit("ENV WD=wd%s" % self.uniq(""))
            wd = "$WD/sub" if r.random() < 0.5 else "${WD}/./x/../sub/"
            st.workdir = (st.workdir.rstrip("/") + "/" + self.df[-1].split("=")[1] + "/sub")
            self.emit("WORKDIR " + wd)
            self.add_path(st, st.workdir, "d")
            return
        elif k == 6:
            self.emit("ENV FOO=")
            names = ["FOO"]
        elif k == 7:
            self.emit("ENV PORT=%d" % r.randint(1000, 2000))
            self.emit("EXPOSE $PORT ${PORT}/udp")
            return
        elif k == 8:
            self.emit("ENV E10=${FOO:-${BAR:-deep}} E11=$FOO$BAR%s$literal" % e)
            names = ["E10", "E11"]
        else:
            self.emit("ENV E12 spaced value with $FOO and   gaps")
            names = ["E12"]
        p = self.fresh(st)
        self.add_path(st, p, "f")
        self.emit("RUN mkdir -p %s && echo \"%s\" > %s" % (p.rsplit("/", 1)[0], "|".join("$" + n for n in names), p))

    def i_garg(self, st):
        if not any(l.startswith("ARG GV=") for l in self.df):
            return self.i_arg(st)
        self.emit("ARG GV")
        p = self.fresh(st)
        self.add_path(st, p, "f")
        self.emit("RUN mkdir -p %s && echo \"${GV:-unset}\" > %s" % (p.rsplit("/", 1)[0], p))

    def i_user(self, st):
        if st.users and self.r.random() < 0.5:
            u, g = self.r.choice(st.users)
            self.emit("USER " + self.r.choice([u, u + ":" + g]))
            st.user_root = False
            return
        u = self.r.choice(["app", "1000", "nobody", "1000:50", "app:staff", "1234:1234", "nobody:nogroup", "100000:100000",
                           "app:50", "1000:staff", "${UNAME:-app}"] + (["app:", ":staff", "nobody:", ":50"] if self.v4 else []))
        self.emit("USER " + u)
        st.user_root = False

    def i_shell(self, st):
        self.emit(self.r.choice(['SHELL ["/bin/sh", "-ec"]', 'SHELL ["/bin/sh", "-c"]', 'SHELL ["/bin/ash", "-xc"]']))

    def i_onbuild(self, st):
        p = "/w/" + self.uniq("onb")
        k = self.r.random()
        if k < 0.25:
            self.emit("ONBUILD ENV OB=%s" % self.word())
        elif k < 0.4:
            self.emit("ONBUILD LABEL ob.%s=\"v $FOO\"" % self.word())
        else:
            self.emit("ONBUILD RUN mkdir -p /w && echo trig \"$OB\" > %s" % p)
            st.onbuild.append(("f", p))

    def i_meta(self, st):
        self.emit(self.r.choice(["LABEL a.b=%s" % self.word(), "EXPOSE %d" % self.r.randint(1, 9000),
                                 "STOPSIGNAL SIGTERM", "LABEL \"k %s\"=\"v w\"" % self.word(), "VOLUME /v%d" % self.r.randint(1, 3),
                                 "EXPOSE 80/tcp 53/udp 80", "EXPOSE 7000-7002", "EXPOSE 8080/TCP 9000/sctp",
                                 'VOLUME ["/vj1", "/vj2"]', "VOLUME /v1 /v2", "VOLUME /v1/", "STOPSIGNAL 9", "STOPSIGNAL SIGKILL",
                                 "STOPSIGNAL SIGRTMIN+3", "LABEL a=1 b=2 a=3", "LABEL a.b=over", "MAINTAINER Some One <so@example.org>",
                                 "LABEL multi=\"line one \\\n  line two\"" if self.esc == "\\" else "LABEL e=%s" % self.word()]))

    def metadata(self, st):
        r = self.r
        if r.random() < 0.6:
            self.emit(r.choice(['CMD ["sh", "-c", "echo hi"]', "CMD echo shell form", 'CMD ["--flag"]', "CMD []",
                               'CMD ["echo", "a\\"b", "\\u00fc", "$FOO"]', "CMD echo $FOO '$BAR'", "CMD [ \"spaced\" , \"x\" ]"]))
        if r.random() < 0.4:
            self.emit(r.choice(['ENTRYPOINT ["/bin/sh", "-c"]', "ENTRYPOINT exec top", 'ENTRYPOINT ["echo"]', "ENTRYPOINT []"]))
        if r.random() < 0.3:
            self.emit(r.choice(["HEALTHCHECK --interval=7s --retries=2 CMD true", "HEALTHCHECK NONE",
                                'HEALTHCHECK --timeout=3s CMD ["sh", "-c", "exit 0"]',
                                "HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=2s --retries=5 CMD echo ok $FOO",
                                "HEALTHCHECK --interval=1h CMD [\"CMD-SHELL\", \"true\"]", "HEALTHCHECK CMD true"]))
        if r.random() < 0.2:
            # a SHELL after the CMD: the CMD keeps the shell it was written with
            self.emit('SHELL ["/bin/ash", "-eo", "pipefail", "-c"]')

    # RUN --mount of each type
    def i_mount(self, st):
        r = self.r
        kind = r.choice(["bind", "bind", "cache", "tmpfs", "secret", "secret", "ssh", "bindfrom"])
        target = r.choice(["/mnt/" + self.uniq("m"), "/" + self.uniq("m"), (self.pick(st, "d") or "/w") + "/" + self.uniq("m"),
                           self.pick(st, "d") or "/tmp/m"])
        out = self.fresh(st)
        if out.startswith(target + "/") or any(t == "l" for p, t in st.paths.items() if out.startswith(p + "/")):
            out = "/out/" + self.uniq("o")
        self.add_path(st, out, "f")
        mk = "mkdir -p %s && " % out.rsplit("/", 1)[0]
        if kind == "bind":
            # (names a mount's CSV options cannot hold left out)
            srcs = [p for p, t in self.ctx_paths.items() if t in ("f", "d") and not set(p) & set(" ,='\"")]
            src = r.choice(sorted(srcs) + (["."] if not (self.twin_ctx or self.twin_plan) else []))
            if self.ctx_paths.get(src) == "f":
                # a file is bound onto a file, or onto a path that does not exist
                files = self.pick(st, "f") if r.random() < 0.5 else None
                target = files if files and files != out else "/mnt/" + self.uniq("m")
            self.emit("RUN --mount=type=bind,source=%s,target=%s %s(find %s | sort; cat %s 2>/dev/null | head -c 100) > %s"
                      % (src, target, mk, target, target if self.ctx_paths.get(src) == "f" else target + "/*", out))
        elif kind == "bindfrom" and self.stages[:-1]:
            src = r.choice(self.stages[:-1])
            self.emit("RUN --mount=type=bind,from=%s,source=/etc,target=%s %s(find %s | sort) > %s" % (src.name, target, mk, target, out))
        elif kind == "cache":
            # write-only: a cache's contents differ between the builders' runs
            self.emit("RUN --mount=type=cache,id=dfz-%d-%s,target=%s %secho %s > %s/f && echo done > %s"
                      % (self.seed, self.uniq("c"), target, mk, self.word(), target, out))
        elif kind == "tmpfs":
            self.emit("RUN --mount=type=tmpfs,target=%s %secho t > %s/t && (find %s | sort) > %s" % (target, mk, target, target, out))
        elif kind == "secret":
            sid = "sec%d" % r.randint(1, 2)
            self.secrets[sid] = "secret-" + self.word()
            if r.random() < 0.5:
                self.emit("RUN --mount=type=secret,id=%s %scat /run/secrets/%s > %s" % (sid, mk, sid, out))
            else:
                self.emit("RUN --mount=type=secret,id=%s,target=%s/s %scat %s/s > %s" % (sid, target, mk, target, out))
        else:
            self.ssh = True
            self.emit("RUN --mount=type=ssh %stest -S \"$SSH_AUTH_SOCK\" && echo agent > %s" % (mk, out))

    # heredocs: only in modern cases
    def i_heredoc(self, st):
        self.modern = True
        out = self.fresh(st)
        self.add_path(st, out, "f")
        d = out.rsplit("/", 1)[0]
        if self.r.random() < 0.5:
            body = "mkdir -p %s\necho %s > %s" % (d, self.word(), out)
            self.emit("RUN <<EOF\n%s\nEOF" % body, "RUN " + body.replace("\n", " && "))
        else:
            text = "%s\n%s" % (self.word(), self.word())
            name = self.uniq("hd")
            self.ctx.append({"path": "lowered/" + name, "type": "f", "mode": "0644", "content": text + "\n",
                             "lowered_only": True})
            self.emit("COPY <<EOF %s\n%s\nEOF" % (out, text), "COPY lowered/%s %s" % (name, out))

    # ---- v3 -------------------------------------------------------------------------------------
    def make_base(self):
        """The base image's Dockerfile: a step of its own and ONBUILD triggers of each kind
        (RUN seeing an ENV and an ARG trigger, ENV, LABEL, COPY of a context file, WORKDIR,
        EXPOSE, a trigger with a continuation)."""
        r = self.r
        lines = ["FROM %s" % BASE, "RUN mkdir -p /w && echo base > /w/base"]
        triggers = [("f", "/w/base")]
        files = sorted(p for p, t in self.ctx_paths.items() if t == "f" and p not in self.odd
                       and not (self.v6 and " " in p))  # (v6: an ONBUILD COPY has no JSON form)
        for _ in range(r.randint(1, 5)):
            k = r.randint(0, 7)
            n = self.uniq("ob")
            if k == 0:
                lines.append("ONBUILD ENV OBX=%s" % self.word())
            elif k == 1:
                lines.append("ONBUILD LABEL ob.%s=\"v $OBX\"" % n)
            elif k == 2 and files:
                lines.append("ONBUILD COPY %s /w/%s" % (r.choice(files), n))
                triggers.append(("f", "/w/" + n))
            elif k == 3:
                lines.append("ONBUILD WORKDIR /w/%s" % n)
                triggers.append(("d", "/w/" + n))
            elif k == 4:
                lines.append("ONBUILD ARG OBA=%s" % self.word())
                lines.append("ONBUILD RUN mkdir -p /w && echo \"${OBA:-none}|${OBX:-none}\" > /w/%s" % n)
                triggers.append(("f", "/w/" + n))
            elif k == 5:
                lines.append("ONBUILD EXPOSE %d" % r.randint(1, 9000))
            elif k == 6:
                lines.append("ONBUILD RUN mkdir -p /w \\\n  && echo \"$OBX\" > /w/%s" % n)
                triggers.append(("f", "/w/" + n))
            else:
                lines.append("ONBUILD RUN mkdir -p /w && echo trig > /w/%s" % n)
                triggers.append(("f", "/w/" + n))
        if r.random() < 0.3:
            lines.append(r.choice(['CMD ["base"]', "ENV BASEENV=b", "LABEL base=1", "WORKDIR /w"]))
        if self.seed >= 43000:
            # v5.2: the base's config (inherited by the first stage, an ENTRYPOINT there
            # drops its CMD) and triggers of config instructions
            for _ in range(r.randint(0, 4)):
                lines.append(r.choice(['CMD ["base-cmd"]', "ENTRYPOINT [\"/bin/echo\"]", "HEALTHCHECK --retries=4 CMD true",
                                       "VOLUME /bvol", "EXPOSE 8443/tcp", "STOPSIGNAL SIGQUIT", 'SHELL ["/bin/sh", "-ec"]',
                                       "LABEL base.l=\"b v\"", "ENV BASEPATH=/b PATH=/b/bin:$PATH"]))
            if r.random() < 0.5:
                t = r.choice(["ONBUILD USER 1000:50", 'ONBUILD CMD ["ob-cmd"]', "ONBUILD ENTRYPOINT ob ep", "ONBUILD HEALTHCHECK NONE",
                              "ONBUILD VOLUME /obv", 'ONBUILD SHELL ["/bin/sh", "-ec"]', "ONBUILD STOPSIGNAL SIGHUP"])
                lines.append(t)
                triggers.append(("user" if "USER" in t else "cfg", None))
        return {"tag": "dfzbase-%d" % self.seed, "dockerfile": lines, "triggers": triggers}

    def out_file(self, st):
        p = self.fresh(st)
        self.add_path(st, p, "f")
        return p, "mkdir -p %s && " % p.rsplit("/", 1)[0]

    def i_fromimg(self, st):
        """COPY --from an image that is no stage (the base, by name)."""
        r = self.r
        p = r.choice(["/etc/passwd", "/bin/sh", "/bin/busybox", "/etc", "/root", "/etc/group", "/bin", "/bin/ls"])
        dest = self.copy_dest(st, p in ("/etc", "/root", "/bin"))
        ref = r.choice(["busybox", "busybox", "busybox:latest"])
        self.emit(copy_line("COPY", self.flags(st) + ["--from=" + ref], [p], dest), repeatable=True)
        self.note_dest(st, dest)

    def i_adduser(self, st):
        """A user and group added by hand, then named by --chown, USER and WORKDIR's owner."""
        r = self.r
        n = self.uniq("")
        uid, gid = r.randint(2000, 60000), r.randint(2000, 60000)
        u, g = "u" + n, "g" + n
        if r.random() < 0.3:
            # a primary group that /etc/group does not name
            self.emit("RUN echo '%s:x:%d:%d::/home/%s:/bin/sh' >> /etc/passwd" % (u, uid, gid, u))
            g = str(gid)
        else:
            self.emit("RUN echo '%s:x:%d:%d::/home/%s:/bin/sh' >> /etc/passwd && echo '%s:x:%d:' >> /etc/group"
                      % (u, uid, gid, u, g, gid))
            st.paths["/etc/group"] = "f"
        st.users.append((u, g))

    def lex_value(self):
        return self.r.choice(["alpha.tar.gz", "a/b/c.txt", "x-y-z", "ab ab ab", "v1.2.3", "path/to/file.tar"])

    def i_lex(self, st):
        """The shell lexer's forms: ${v:?}, and those 20.10 lacks (${v-x}, ${v+x}, ${v?x},
        ${v#p}, ${v##p}, ${v%p}, ${v%%p}, ${v/p/r}, ${v//p/r}), their twin the value."""
        r = self.r
        v = self.lex_value()
        name = "P" + self.uniq("")
        q = lambda x: '"%s"' % x if (" " in x or not x) else x
        self.emit("ENV %s=%s" % (name, q(v)))
        self.emit("ENV EMPTYV=")
        # (a word of ENV or LABEL ends at a blank, inside ${} too: no blank in a message)
        forms = [("${%s:?must-be-set}" % name, v, False), ("${%s%%.*}" % name, strip_glob(v, ".*", False, False), True),
                 ("${%s%%%%.*}" % name, strip_glob(v, ".*", False, True), True),
                 ("${%s#*.}" % name, strip_glob(v, "*.", True, False), True),
                 ("${%s##*.}" % name, strip_glob(v, "*.", True, True), True),
                 ("${%s#*/}" % name, strip_glob(v, "*/", True, False), True),
                 ("${%s%%/*}" % name, strip_glob(v, "/*", False, False), True),
                 ("${%s##*/}" % name, strip_glob(v, "*/", True, True), True),
                 ("${%s#a}" % name, v[1:] if v.startswith("a") else v, True),
                 ("${%s%%?}" % name, v[:-1] if v else v, True),
                 ("${%s/a/X}" % name, v.replace("a", "X", 1), True), ("${%s//a/X}" % name, v.replace("a", "X"), True),
                 ("${%s-dflt}" % name, v, True), ("${NOPE-dflt}", "dflt", True), ("${EMPTYV-dflt}", "", True),
                 ("${EMPTYV:-dflt}", "dflt", False), ("${%s+alt}" % name, "alt", True), ("${NOPE+alt}", "", True),
                 ("${EMPTYV+alt}", "alt", True), ("${EMPTYV:+alt}", "", False), ("${%s?x}" % name, v, True)]
        pick = r.sample(forms, r.randint(1, 4))
        keys = [self.uniq("Q") for _ in pick]
        modern = any(m for _, _, m in pick)
        where = r.random()
        if where < 0.6:
            self.emit("ENV " + " ".join("%s=%s" % (k, f) for k, (f, _, _) in zip(keys, pick)),
                      "ENV " + " ".join("%s=%s" % (k, q(val)) for k, (_, val, _) in zip(keys, pick)))
        else:
            self.emit("LABEL " + " ".join("%s=%s" % (k.lower(), f) for k, (f, _, _) in zip(keys, pick)),
                      "LABEL " + " ".join("%s=%s" % (k.lower(), q(val)) for k, (_, val, _) in zip(keys, pick)))
            keys = []
        if r.random() < 0.3 and "/" not in v and " " not in v:
            f, val, m = r.choice([x for x in pick if x[1] and " " not in x[1] and "/" not in x[1]] or [("${%s}" % name, v, False)])
            d = "/w/lex" + self.uniq("")
            self.emit("WORKDIR %s/%s" % (d, f), "WORKDIR %s/%s" % (d, val))
            modern = modern or m
            self.add_path(st, d + "/" + val, "d")
        if r.random() < 0.1:
            # unset: both builders must refuse the instruction
            self.emit("ENV Z=${NOPE:?is-not-set}" if r.random() < 0.5 else "LABEL z=${NOPE?is-not-set}",
                      "ENV Z=${NOPE:?is-not-set}")
            modern = True
        if modern:
            self.modern = True
        if keys:
            p, mk = self.out_file(st)
            self.emit("RUN %secho \"%s\" > %s" % (mk, "|".join("$" + k for k in keys), p))

    def i_heredoc3(self, st):
        """Heredocs with variables and quoting: COPY's expanded unless the word is quoted,
        <<- stripping tabs, several in one COPY, a command reading one, a shebang."""
        r = self.r
        self.modern = True
        hv = self.word() + "-" + self.word()
        self.emit("ENV HV=%s" % hv)
        k = r.randint(0, 6)
        p, mk = self.out_file(st)
        d = p.rsplit("/", 1)[0]
        if k <= 2:
            delim = ["EOF", '"EOF"', "'EOF'"][k]
            body = "line $HV ${HV}x\n  \\$HV tab\there"
            text = body if k else body.replace("${HV}", hv).replace("$HV", hv).replace("\\" + hv, "$HV")
            if k == 0:
                text = "line %s %sx\n  $HV tab\there" % (hv, hv)
            name = self.uniq("hd")
            self.ctx.append({"path": "lowered/" + name, "type": "f", "mode": "0644", "content": text + "\n",
                             "lowered_only": True})
            fl = r.choice(["", "--chmod=0755 ", "--chown=1000:50 "])
            self.emit("COPY %s<<%s %s\n%s\nEOF" % (fl, delim, p, body), "COPY %slowered/%s %s" % (fl, name, p))
        elif k == 3:
            # <<- strips leading tabs
            self.emit("RUN <<-EOF\n\tmkdir -p %s\n\t\techo \"$HV\" > %s\nEOF" % (d, p),
                      "RUN mkdir -p %s && echo \"$HV\" > %s" % (d, p))
        elif k == 4:
            # the heredoc read by a command: the shell expands it (unless quoted)
            quoted = r.random() < 0.5
            self.emit("RUN %scat <<%s > %s\nv=$HV\nEOF" % (mk, "'EOF'" if quoted else "EOF", p),
                      "RUN %secho %s > %s" % (mk, "'v=$HV'" if quoted else "\"v=$HV\"", p))
        elif k == 5:
            # a script with a shebang is run as a file
            self.emit("RUN <<EOF\n#!/bin/sh\nset -e\n%secho \"sb $HV\" > %s\nEOF" % (mk, p),
                      "RUN %secho \"sb $HV\" > %s" % (mk, p))
        else:
            # two heredocs in one COPY: files A1 and B1 in a directory
            name = self.uniq("hd")
            self.drop(st, p)
            self.add_path(st, p + "/A1", "f")
            self.add_path(st, p + "/B1", "f")
            for f, t in (("A1", "a $HV"), ("B1", "b")):
                self.ctx.append({"path": "lowered/%s/%s" % (name, f), "type": "f", "mode": "0644",
                                 "content": t.replace("$HV", hv) + "\n", "lowered_only": True})
            self.emit("COPY <<A1 <<B1 %s/\na $HV\nA1\nb\nB1" % p, "COPY lowered/%s/ %s/" % (name, p))

    def i_scope(self, st):
        """ARG and ENV scoping: ENV over an ARG of the same name (either order, with or
        without a build arg), an ARG's default from ENV or an earlier ARG, an ARG without a
        value, the platform ARGs, a global ARG not redeclared, the proxy ARGs."""
        r = self.r
        k = r.randint(0, 6)
        if k == 0:
            if r.random() < 0.5:
                self.build_args["SC"] = "cli-sc"
            if r.random() < 0.5:
                self.emit("ARG SC=arg-sc")
                self.emit("ENV SC=env-sc")
            else:
                self.emit("ENV SC=env-sc")
                self.emit("ARG SC=arg-sc")
            names = ["SC"]
        elif k == 1:
            self.emit("ENV BASEV=b-%s" % self.word())
            self.emit("ARG DV=${BASEV}-x")
            self.emit("ARG DW=$DV-y")
            names = ["DV", "DW", "BASEV"]
        elif k == 2:
            self.emit("ARG NV")
            p, mk = self.out_file(st)
            self.emit("RUN %s(echo \"${NV:-empty}\"; [ -z \"${NV+x}\" ] && echo unset || echo set) > %s" % (mk, p))
            return
        elif k == 3:
            names = r.sample(["TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM",
                              "BUILDOS", "BUILDARCH"], r.randint(1, 3))
            for n in names:
                self.emit("ARG " + n)
        elif k == 4:
            names = ["GV"]
        elif k == 5:
            self.build_args[r.choice(["HTTP_PROXY", "http_proxy", "NO_PROXY"])] = "http://p.invalid:3128"
            p, mk = self.out_file(st)
            self.emit("RUN %s(env | grep -i _proxy | sort) > %s || true" % (mk, p))
            return
        else:
            self.emit("ARG A1=%s" % self.word())
            self.emit("ENV A1=${A1}-env")
            names = ["A1"]
        p, mk = self.out_file(st)
        self.emit("RUN %secho \"%s\" > %s" % (mk, "|".join("${%s:-unset}" % n for n in names), p))

    def i_shellform(self, st):
        """SHELL, then shell-form RUN, CMD and ENTRYPOINT with it."""
        r = self.r
        sh = r.choice(['["/bin/busybox", "sh", "-c"]', '["/bin/sh", "-ec"]', '["env", "SX=1", "/bin/sh", "-c"]',
                       '["/bin/sh", "-o", "pipefail", "-c"]'])
        self.emit("SHELL " + sh)
        p, mk = self.out_file(st)
        self.emit("RUN %secho \"$0 ${SX:-nosx}\" > %s" % (mk, p))
        if r.random() < 0.5:
            self.emit(r.choice(["CMD echo with shell $0", "ENTRYPOINT exec echo ep", "HEALTHCHECK CMD echo hc"]))

    def i_merge(self, st):
        """COPY of a directory over a destination that holds, under the same names, a
        symlink, a file, a directory of another mode: merged, replaced or refused."""
        r = self.r
        tops = sorted(p for p, t in self.ctx_paths.items() if "/" not in p and t in ("f", "d"))
        if not tops:
            return self.i_copy(st)
        dest = "/w/mg" + self.uniq("")
        ops = ["mkdir -p " + dest]
        for n in r.sample(tops, min(len(tops), r.randint(1, 3))):
            t = self.ctx_paths[n]
            q = "%s/%s" % (dest, n)
            if t == "d":
                ops.append(r.choice(["mkdir -m 700 '%s' && echo old > '%s/old'" % (q, q), "ln -s /tmp '%s'" % q,
                                     "ln -s nowhere '%s'" % q, "echo f > '%s'" % q, "mkdir -p '%s/c1'" % q]))
            else:
                ops.append(r.choice(["echo old > '%s' && chmod 600 '%s'" % (q, q), "ln -s /etc/passwd '%s'" % q,
                                     "ln -s nowhere '%s'" % q, "mkdir '%s'" % q, "ln -s . '%s'" % q]))
        self.emit("RUN " + " && ".join(ops))
        self.add_path(st, dest, "d")
        whole = not (self.twin_ctx or self.twin_plan)
        src = "." if whole and r.random() < 0.6 else r.choice(tops) if self.ctx_paths[r.choice(tops)] else "."
        if src != "." and self.ctx_paths.get(src) == "f":
            src = "."  if whole else src
        if r.random() < 0.4 and src == ".":
            self.emit("WORKDIR " + dest)
            st.workdir = dest
            self.emit(copy_line("COPY", self.flags(st), ["."], "."), repeatable=True)
        else:
            self.emit(copy_line("COPY", self.flags(st), [src], dest + "/"), repeatable=True)

    def twin_dir(self, stem, files, mode=None):
        """A directory only --exclude/--parents steps name; FILES: (path, keep) where a
        dropped file is in bale's context only. mode: the directory's (--parents gives the
        copy the source's, its twin's COPY makes it 0755)."""
        d = self.uniq(stem)
        self.ctx.append({"path": d, "type": "d", "mode": mode or self.r.choice(["0755", "0750"])})
        for f, keep in files:
            parts = f.split("/")
            for i in range(1, len(parts)):
                sub = d + "/" + "/".join(parts[:i])
                # a directory that holds no kept file is bale's only too
                kept = any(k and g.startswith(sub[len(d) + 1:] + "/") for g, k in files)
                if not any(e["path"] == sub for e in self.ctx):
                    self.ctx.append({"path": sub, "type": "d", "mode": self.r.choice(["0755", "0700", "0750"])})
                    if not kept:
                        self.ctx[-1]["modern_only"] = True
            e = {"path": d + "/" + f, "type": "f", "mode": self.r.choice(["0644", "0600", "0755"]), "content": f}
            if not keep:
                e["modern_only"] = True
            self.ctx.append(e)
        self.twin_ctx = True
        self.modern = True
        return d

    def i_exclude(self, st):
        r = self.r
        if not self.twin_plan:
            return self.i_copy(st)
        files = ["keep1.txt", "drop1.tmp", "sub/keep2.txt", "sub/drop2.tmp", "sub/deeper/keep3.txt", "sub/deeper/drop3.tmp"]
        pat, dropped = r.choice([("**/*.tmp", {f for f in files if f.endswith(".tmp")}),
                                 ("*.tmp", {"drop1.tmp"}),
                                 ("sub/drop2.tmp", {"sub/drop2.tmp"}),
                                 ("sub/*/drop3.tmp", {"sub/deeper/drop3.tmp"}),
                                 ("drop*", {"drop1.tmp"})])
        d = self.twin_dir("xd", [(f, f not in dropped) for f in files])
        dest = self.fresh(st) + "/"
        fl = self.flags(st)
        self.emit(copy_line("COPY", fl + ["--exclude=" + pat], [d], dest), copy_line("COPY", fl, [d], dest))
        self.note_dest(st, dest)

    def i_parents(self, st):
        r = self.r
        if not self.twin_plan:
            return self.i_copy(st)
        files = ["a/f1.txt", "a/f2.txt", "b/c/f3.txt", "b/g.txt", "top.txt"]
        chosen = r.sample(files, r.randint(1, 3))
        d = self.twin_dir("pd", [(f, f in chosen) for f in files], mode="0755")
        dest = self.fresh(st) + "/"
        fl = self.flags(st, chmod=False)
        if r.random() < 0.3:
            # the ./ marker: the path after it is kept
            self.emit(copy_line("COPY", fl + ["--parents"], ["%s/./%s" % (d, f) for f in chosen], dest),
                      copy_line("COPY", fl, [d + "/"], dest))
        else:
            self.emit(copy_line("COPY", fl + ["--parents"], ["%s/%s" % (d, f) for f in chosen], dest),
                      copy_line("COPY", fl, [d], dest + d + "/"))
        self.note_dest(st, dest)

    def i_symchmod(self, st):
        """COPY --chmod in symbolic form (not in 20.10): its twin the octal mode it gives a
        file of the context."""
        r = self.r
        files = [e for e in self.ctx if e["type"] == "f" and e["path"] in self.ctx_paths and not e.get("modern_only")
                 and not e["path"].startswith("lowered/")]
        if not files:
            return self.i_copy(st)
        e = r.choice(files)
        spec = r.choice(["u+x", "g-w", "go=", "a=r", "u=rwx,g=rx,o=", "a+X", "o+w", "u-w", "a-x,u+x", "ug=rw"])
        mode = sym_mode(int(e["mode"], 8), spec)
        dest = self.fresh(st)
        self.add_path(st, dest, "f")
        self.modern = True
        self.emit(copy_line("COPY", ["--chmod=" + spec], [e["path"]], dest),
                  copy_line("COPY", ["--chmod=%04o" % mode], [e["path"]], dest))

    def i_escapes(self, st):
        """ENV and LABEL quoting and escapes (the escape character of the escape directive)."""
        r = self.r
        e = self.esc
        forms = [("X1", "a%s b%s c" % (e, e)), ("X2", '"q %s"in%s" q"' % (e, e)), ("X3", "'sq \"dq\" $HOME %s'" % e),
                 ("X4", "%s$HOME" % e), ("X5", '"a%s%sb"' % (e, e)), ("X6", "\"$HOME\"'$HOME'"), ("X7", "a%stb" % e),
                 ("X8", '"l1%snl2"' % e), ("X9", '"%s$HOME %s${HOME}"' % (e, e)), ("X10", "'it'\"'\"'s'"),
                 ("X11", '""'), ("X12", "a=b=c"), ("X13", '"#not a comment"')]
        pick = r.sample(forms, r.randint(1, 4))
        if r.random() < 0.7:
            self.emit("ENV " + " ".join("%s=%s" % kv for kv in pick))
            p, mk = self.out_file(st)
            self.emit("RUN %secho \"%s\" > %s" % (mk, "|".join("$" + k for k, _ in pick), p))
        else:
            self.emit("LABEL " + " ".join("\"esc.%s\"=%s" % (k.lower(), v) for k, v in pick))

    def i_onbuild3(self, st):
        """ONBUILD COPY (from the child's context), WORKDIR and ARG triggers."""
        r = self.r
        files = sorted(p for p, t in self.ctx_paths.items() if t == "f" and p not in self.odd)
        k = r.random()
        if k < 0.5 and files:
            p = "/w/" + self.uniq("obc")
            self.emit("ONBUILD COPY %s %s" % (r.choice(files), p))
            st.onbuild.append(("f", p))
        elif k < 0.75:
            p = "/w/" + self.uniq("obw")
            self.emit("ONBUILD WORKDIR " + p)
            st.onbuild.append(("d", p))
        else:
            self.emit("ONBUILD ARG OBA=%s" % self.word())
            self.emit("ONBUILD RUN echo \"${OBA:-none}\" > /tmp/oba")

    def i_odd(self, st):
        """COPY and ADD of names with spaces, unicode and punctuation (JSON form where a
        space needs it), to such names too."""
        r = self.r
        if not self.odd:
            return self.i_copy(st)
        srcs = r.sample(self.odd, min(len(self.odd), r.randint(1, 2)))
        base = self.fresh(st)
        dest = r.choice([base + "/", base + " sp/", base + "/\u00fc d/", base + "/x,y/"])
        if len(srcs) == 1 and self.ctx_paths.get(srcs[0]) == "f" and r.random() < 0.4:
            dest = dest.rstrip("/")
        self.emit(copy_line(r.choice(["COPY", "COPY", "ADD"]), self.flags(st, chmod=False), srcs, dest), repeatable=True)
        self.add_path(st, base, "d")

    # ---- v5 -------------------------------------------------------------------------------------
    # Lines some of which BuildKit 20.10 refuses (the builders must agree, and bale's refusal
    # must name the line): (line, where) with where "stage" (after a FROM) or "top" (before
    # the first FROM).
    INVALID = [
        ("FOO bar", "stage"), ("RUN true", "top"), ("LABEL a=b", "top"), ("ENV a=b", "top"),
        ("ONBUILD ONBUILD RUN true", "stage"), ("ONBUILD FROM busybox", "stage"),
        ("ONBUILD MAINTAINER x", "stage"), ("ONBUILD", "stage"),
        ("ENV FOO", "stage"), ("ENV =x", "stage"), ("ENV", "stage"), ("ENV a=1 b", "stage"),
        ("LABEL foo", "stage"), ("LABEL =v", "stage"), ("LABEL", "stage"), ("LABEL a=1 b", "stage"),
        ("COPY onlyone", "stage"), ("ADD x", "stage"), ("COPY", "stage"),
        ("COPY --nosuch=1 a /b", "stage"), ("RUN --nosuch true", "stage"),
        ("RUN --mount=type=nosuch,target=/x true", "stage"), ("RUN --mount=type=bind true", "stage"),
        ("RUN --mount=target=/x,type=tmpfs,size=x true", "stage"), ("RUN --mount=type=cache true", "stage"),
        ("EXPOSE abc", "stage"), ("EXPOSE 80/xyz", "stage"), ("EXPOSE 70000", "stage"), ("EXPOSE 0", "stage"),
        ("EXPOSE 9-3", "stage"), ("EXPOSE 127.0.0.1:80:80", "stage"), ("EXPOSE 8080:80", "stage"),
        ("EXPOSE 80/tcp/udp", "stage"), ("EXPOSE -1", "stage"), ("EXPOSE 1-65535/sctp", "stage"), ("EXPOSE", "stage"),
        ("HEALTHCHECK", "stage"), ("HEALTHCHECK NONE x", "stage"), ("HEALTHCHECK FOO true", "stage"),
        ("HEALTHCHECK --interval=0s CMD true", "stage"), ("HEALTHCHECK --interval=1us CMD true", "stage"),
        ("HEALTHCHECK --retries=-1 CMD true", "stage"), ("HEALTHCHECK --retries=x CMD true", "stage"),
        ("HEALTHCHECK --interval=5 CMD true", "stage"), ("HEALTHCHECK CMD", "stage"), ("HEALTHCHECK CMD []", "stage"),
        ("HEALTHCHECK --timeout=-1s CMD true", "stage"), ("HEALTHCHECK --interval=1ms CMD true", "stage"),
        ("HEALTHCHECK --nosuch=1 CMD true", "stage"), ("HEALTHCHECK --interval=1m --interval=2m CMD true", "stage"), ("HEALTHCHECK --retries=1.5 CMD true", "stage"),
        ("SHELL /bin/sh -c", "stage"), ("SHELL []", "stage"), ("SHELL", "stage"),
        ("STOPSIGNAL NOPE", "stage"), ("STOPSIGNAL 0", "stage"), ("STOPSIGNAL sigusr1", "stage"),
        ("STOPSIGNAL SIGRTMAX", "stage"), ("STOPSIGNAL 100", "stage"), ("STOPSIGNAL -9", "stage"),
        ("STOPSIGNAL", "stage"), ("STOPSIGNAL $NOSIG", "stage"), ("STOPSIGNAL SIGTERM SIGKILL", "stage"),
        ("USER", "stage"), ("USER a b", "stage"), ("WORKDIR", "stage"), ("WORKDIR a b", "stage"),
        ("VOLUME", "stage"), ("VOLUME []", "stage"), ('VOLUME [""]', "stage"), ("VOLUME $NOVOL", "stage"),
        ("CMD", "stage"), ("ENTRYPOINT", "stage"), ("MAINTAINER", "stage"), ("ARG", "stage"),
        ("ARG a b", "stage"), ("ARG 1a=2", "stage"), ("ARG a=1 b=2", "stage"), ("ARG a==b", "stage"),
        ("FROM", "stage"), ("FROM busybox AS", "stage"), ("FROM busybox AS 1x", "stage"),
        ("FROM busybox AS s0", "stage"), ("FROM busybox AS x y", "stage"), ("FROM busybox FOR x", "stage"),
        ("FROM busybox AS a:b", "stage"), ("FROM busybox AS Ab_c.d-e", "stage"),
        ("ENV a=${b", "stage"), ("ENV a=${b:?nob}", "stage"), ("ENV a=${}", "stage"), ("ENV a=${b:=c}", "stage"),
        ("ENV a=${b:}", "stage"), ("ENV a=$", "stage"), ("ENV a=${b!}", "stage"), ("LABEL l=${b:?}", "stage"),
        ("WORKDIR ${NOPE:?needed}", "stage"), ("COPY --chmod=999 a /b", "stage"), ("COPY --chmod=8 a /b", "stage"),
        ("COPY --chown=a:b:c a /b", "stage"), ("COPY --from= /x /y", "stage"), ("COPY --from=-1 /x /y", "stage"),
        ("COPY --from=99 /x /y", "stage"), ("EXPOSE $NOPORT", "stage"), ("WORKDIR $NOWD", "stage"),
        ("USER $NOUSER", "stage"), ("USER :", "stage"), ("CMD [\"a\", ]", "stage"), ("CMD [\"a\", 1]", "stage"),
        ("ENTRYPOINT [\"a\"", "stage"), ("CMD ['single']", "stage"), ("RUN [\"\"]", "stage"), ("RUN []", "stage"),
        ("RUN", "stage"), ("RUN --mount=type=secret true", "stage"), ("RUN --mount=type=secret,id=nosec,required true", "stage"),
        ("RUN --mount=type=bind,from=nostage,target=/m true", "stage"),
        ("ADD --chown=1000 --chown=50 nosuchfile /x", "stage"), ("COPY --chown= c /x", "stage"),
        ("ONBUILD RUN", "stage"), ("ONBUILD ENV", "stage"), ("ONBUILD COPY", "stage"),
    ]

    def invalid(self):
        """One line, from INVALID, put into the Dockerfile (and its twin): before the first
        FROM, or after a FROM. Returns the line."""
        r = self.r
        line, where = r.choice(self.INVALID)
        if self.seed >= 42000 and r.random() < 0.15:
            # v5.1: parser directives on the first line (a second escape directive after
            # the generator's own is refused, an unknown one is a comment)
            line = r.choice(["# escape=x", "# escape=\\", "# escape=`", "#escape=\\", "# unknown=1", "# ESCAPE=\\",
                             "# escape = \\"])
            self.df.insert(0, line)
            self.low.insert(0, line)
            return line
        froms = [i for i, l in enumerate(self.df) if l.startswith("FROM ")]
        i = froms[0] if where == "top" else r.randint(froms[0] + 1, len(self.df))
        self.df.insert(i, line)
        self.low.insert(i, line)
        return line

    def i_onbuild5(self, st):
        """ONBUILD of config instructions and ADD (triggers a child stage runs)."""
        r = self.r
        k = r.randint(0, 9)
        if k == 0:
            self.emit("ONBUILD USER " + r.choice(["1000:50", "nobody", "app"]))
            st.onbuild.append(("user", None))
        elif k == 1:
            self.emit("ONBUILD " + r.choice(['CMD ["ob-cmd"]', "CMD ob shell $FOO", 'ENTRYPOINT ["ob-ep"]', "ENTRYPOINT ob ep"]))
            st.onbuild.append(("cfg", None))
        elif k == 2:
            self.emit("ONBUILD " + r.choice(["EXPOSE 4242/udp", "VOLUME /obv", 'VOLUME ["/obj"]', "STOPSIGNAL SIGHUP"]))
            st.onbuild.append(("cfg", None))
        elif k == 3:
            self.emit('ONBUILD SHELL ["/bin/sh", "-ec"]')
            st.onbuild.append(("cfg", None))
        elif k == 4:
            self.emit("ONBUILD " + r.choice(["HEALTHCHECK NONE", "HEALTHCHECK --retries=3 CMD ob-hc", 'HEALTHCHECK CMD ["ob"]']))
            st.onbuild.append(("cfg", None))
        elif k == 5:
            tars = sorted(p for p, t in self.ctx_paths.items() if t == "tar")
            files = sorted(p for p, t in self.ctx_paths.items() if t == "f" and p not in self.odd)
            srcs = tars or files
            if not srcs:
                return self.i_onbuild(st)
            p = "/w/" + self.uniq("oba")
            self.emit("ONBUILD ADD %s %s/" % (r.choice(srcs), p))
            st.onbuild.append(("d", p))
        elif k == 6:
            # a trigger whose shell-form RUN is run with the shell the child inherits
            p = "/w/" + self.uniq("obs")
            self.emit('SHELL ["/bin/sh", "-ec"]')
            self.emit("ONBUILD RUN mkdir -p /w && echo \"$0 $-\" > %s" % p)
            st.onbuild.append(("f", p))
        elif k == 7:
            # two triggers on one line of continuations, and a lowercase instruction
            p = "/w/" + self.uniq("obl")
            self.emit("onbuild run mkdir -p /w %s\n  && echo low > %s" % (self.esc, p))
            st.onbuild.append(("f", p))
        elif k == 8:
            self.emit("ONBUILD LABEL ob5=\"%s\" ob.multi=1 ob.q='$FOO'" % self.word())
            st.onbuild.append(("cfg", None))
        else:
            p = "/w/" + self.uniq("obe")
            self.emit("ONBUILD ENV OBE=${FOO:-obe}")
            self.emit("ONBUILD RUN mkdir -p /w && echo \"$OBE\" > %s" % p)
            st.onbuild.append(("f", p))

    def i_workdir5(self, st):
        """WORKDIR chains: relative steps, `..`, `.`, doubled and trailing slashes, a variable;
        a RUN writes pwd."""
        import posixpath
        r = self.r
        for _ in range(r.randint(1, 4)):
            n = self.uniq("wc")
            k = r.randint(0, 6)
            if k == 0:
                arg, wd = n, posixpath.join(st.workdir, n)
            elif k == 1:
                arg, wd = "../" + n, posixpath.join(posixpath.dirname(st.workdir.rstrip("/")) or "/", n)
            elif k == 2:
                arg, wd = "./%s/" % n, posixpath.join(st.workdir, n)
            elif k == 3:
                root = r.choice(ROOTS)
                arg, wd = "%s//%s/" % (root, n), root + "/" + n
            elif k == 4:
                self.emit("ENV WDV=%s" % n)
                arg, wd = "$WDV/in", posixpath.join(st.workdir, n, "in")
            elif k == 5:
                arg, wd = "%s/./x/../" % n, posixpath.join(st.workdir, n)
            else:
                root = r.choice(ROOTS)
                arg, wd = "%s/%s/." % (root, n), root + "/" + n
            wd = posixpath.normpath(wd)
            if any(wd == p or wd.startswith(p + "/") for p, t in st.paths.items() if t != "d"):
                return
            self.emit("WORKDIR " + arg)
            st.workdir = wd
            self.add_path(st, wd, "d")
        p = st.workdir.rstrip("/") + "/" + self.uniq("pwd")
        self.add_path(st, p, "f")
        self.emit("RUN pwd > " + p.rsplit("/", 1)[1])

    def i_label5(self, st):
        """LABEL over several lines: continuations with comment lines and empty lines between,
        quoted keys and values, a value with the escape character."""
        r = self.r
        e = self.esc
        pairs = ['l5.a=%s' % self.word(), '"l5 b"="two words"', "l5.c='$FOO single'", 'l5.d="$FOO dq"',
                 'l5.e=""', 'l5.f=a%s b' % e, 'l5.g="x%s"y"' % e, "l5.h=${FOO:-none}", 'l5.a=again']
        chosen = r.sample(pairs, r.randint(2, 5))
        lines = ["LABEL " + chosen[0] + " " + e]
        for i, pr in enumerate(chosen[1:]):
            if r.random() < 0.4:
                lines.append(r.choice(["# a comment " + self.word(), "", "  ", "#"]))
            lines.append("  " + pr + ("" if i == len(chosen) - 2 else " " + e))
        self.emit("\n".join(lines))

    def i_config5(self, st):
        """Config instructions anywhere (a child stage inherits them): ENTRYPOINT and CMD in
        either order, HEALTHCHECK forms and NONE, EXPOSE, USER forms, STOPSIGNAL from ENV."""
        r = self.r
        k = r.randint(0, 8)
        if k == 0:
            self.emit('ENTRYPOINT ["/bin/echo", "ep5"]')
            if r.random() < 0.5:
                self.emit("CMD c5")
        elif k == 1:
            self.emit('CMD ["c5"]')
            self.emit(r.choice(["ENTRYPOINT echo", 'ENTRYPOINT ["ep"]', "ENTRYPOINT []"]))
        elif k == 2:
            self.emit(r.choice(["HEALTHCHECK NONE", "HEALTHCHECK --start-period=0s CMD true",
                                "HEALTHCHECK --interval=1ms --timeout=1ms CMD true", 'HEALTHCHECK CMD ["CMD", "x"]',
                                'HEALTHCHECK CMD ["CMD-SHELL", "a", "b"]', "HEALTHCHECK --retries=1 CMD [\"NONE\"]",
                                "HEALTHCHECK CMD echo $FOO 'q'",
                                "healthcheck --timeout=2s cmd true"]))
        elif k == 3:
            self.emit("EXPOSE " + r.choice(["80-81/udp", "8080/tcp 8080/udp", "443 443/tcp", "1-3", "65535",
                                            "22/TCP 22/tcp", "  99  "]))
        elif k == 4:
            self.emit("USER " + r.choice(["0:0", "root:root", "root:0", "0", "ROOT", "root"]))
        elif k == 5:
            self.emit("ENV SIG=" + r.choice(["SIGINT", "10", "SIGUSR2", "QUIT"]))
            self.emit("STOPSIGNAL $SIG")
        elif k == 6:
            self.emit("STOPSIGNAL " + r.choice(["SIGWINCH", "15", "SIGRTMIN", "SIGRTMAX-2", "TERM", "HUP"]))
        elif k == 7:
            self.emit(r.choice(['CMD ["a", "b"]', "CMD a b"]))
            self.emit(r.choice(['CMD ["last"]', "CMD last shell"]))
        else:
            self.emit(r.choice(["ENTRYPOINT [\"/bin/sh\", \"-c\", \"echo $0\", \"x\"]", "ENTRYPOINT  spaced   words ",
                                "CMD [ ]", "CMD [\"a\" ,\"b\"]", "ENTRYPOINT [\"a\\\\b\"]"]))

    def i_volume5(self, st):
        """VOLUME forms, then writes under the volume (BuildKit keeps them)."""
        r = self.r
        v = "/vol" + self.uniq("")
        form = r.randint(0, 3)
        if form == 0:
            self.emit('VOLUME ["%s", "%s sp"]' % (v, v))
        elif form == 1:
            self.emit("ENV VV=%s" % v)
            self.emit("VOLUME $VV ${VV}/sub")
        elif form == 2:
            self.emit("VOLUME %s %s/" % (v, v))
        else:
            self.emit('VOLUME ["%s"] ' % v)
        self.emit("RUN mkdir -p %s && echo %s > %s/in" % (v, self.word(), v))
        self.add_path(st, v + "/in", "f")

    def i_envorder5(self, st):
        """The order of Env: a variable set again keeps its place, PATH changed, several
        pairs in one ENV, ENV of a name the base has."""
        r = self.r
        k = r.randint(0, 3)
        if k == 0:
            self.emit("ENV EB=1 EA=2")
            self.emit("ENV EB=3")
        elif k == 1:
            self.emit("ENV PATH=$PATH:/x/bin EC=c")
        elif k == 2:
            self.emit("ENV ED=1 ED=2 EE=$ED")
        else:
            self.emit("ENV PATH=/first")
            self.emit("ENV PATH=/usr/bin:/bin:$PATH")
        p, mk = self.out_file(st)
        self.emit("RUN %senv | grep -v -e HOSTNAME -e '^_' | sort > %s" % (mk, p))

    def i_glob5(self, st):
        """COPY with glob metacharacters: context names holding [ ] ? and *, classes,
        ranges, negation, a pattern that only matches through a class."""
        r = self.r
        n = self.uniq("g")
        d = "gl" + n
        names = ["a1.txt", "a2.txt", "b[1].txt", "b1.txt", "q?.md", "qx.md", "st*r.txt", "str.txt"]
        if d not in self.ctx_paths:
            self.ctx.append({"path": d, "type": "d", "mode": "0755"})
            for x in names:
                self.ctx.append({"path": d + "/" + x, "type": "f", "mode": "0644", "content": x})
        pat = r.choice(["a[0-9].txt", "a[!1].txt", "a[^1].txt", "b[[]1].txt", "b[1].txt", "q?.md", "q[?].md", "st[*]r.txt",
                        "*[[]*", "?[0-9]*", "[ab]*", "*.md", "st*r.txt", "a\\1.txt", "[a-b][!x]*"])
        dest = self.fresh(st) + "/"
        self.emit(copy_line("COPY", self.flags(st), [d + "/" + pat], dest), repeatable=True)
        self.add_path(st, dest.rstrip("/"), "d")

    def i_argscope5(self, st):
        """ARG scoping: a global ARG redeclared with a default of the stage's, an ARG used in
        COPY --chown and LABEL and ENV, the proxy ARGs declared, an ARG after ENV."""
        r = self.r
        k = r.randint(0, 4)
        if k == 0 and any(l.startswith("ARG GV=") for l in self.df):
            self.emit("ARG GV=stage-" + self.word())
            names = ["GV"]
        elif k == 1:
            self.emit("ARG OWN=1234:50")
            p = self.fresh(st)
            files = sorted(q for q, t in self.ctx_paths.items() if t == "f" and q not in self.odd)
            if not files:
                return
            self.emit("COPY --chown=$OWN %s %s" % (r.choice(files), p))
            self.add_path(st, p, "f")
            self.emit("LABEL own=$OWN")
            names = ["OWN"]
        elif k == 2:
            n = r.choice(["HTTP_PROXY", "https_proxy", "FTP_PROXY", "no_proxy", "ALL_PROXY"])
            if r.random() < 0.7:
                self.build_args[n] = "http://p5.invalid:1"
            self.emit("ARG " + n + r.choice(["", "=http://dflt.invalid:2"]))
            names = [n]
        elif k == 3:
            self.emit("ENV AE=env")
            self.emit("ARG AE=arg")
            self.emit("ARG AF=${AE}-f")
            names = ["AE", "AF"]
        else:
            if r.random() < 0.5:
                self.build_args["AU"] = "cli-au"
            self.emit("ARG AU")
            self.emit("ENV AUE=${AU:-none}")
            names = ["AU", "AUE"]
        p, mk = self.out_file(st)
        self.emit("RUN %secho \"%s\" > %s" % (mk, "|".join("${%s:-unset}" % n for n in names), p))

    def i_archive5(self, st):
        """ADD of archives whose names do not say what they are (a gzip named .dat, a bzip2
        named .tar, a plain tar named .tar.gz, a text named .tar), with entries `./`, `./x`
        and deep paths, to a destination without a trailing slash, an existing directory, or
        two archives into one directory."""
        r = self.r
        n = self.uniq("")
        entries = [{"path": r.choice(["./", "."]), "type": "d", "mode": r.choice(["0755", "0700", "0750"]), "uid": 0, "gid": 0}]
        for i in range(r.randint(1, 3)):
            entries.append({"path": r.choice(["./", ""]) + "e%s_%d" % (n, i), "type": "f", "mode": r.choice(MODES[:6]),
                            "content": self.word(), "uid": r.choice([0, 1000]), "gid": r.choice([0, 50])})
        if r.random() < 0.5:
            entries.append({"path": "deep%s/a/b/f" % n, "type": "f", "mode": "0644", "content": "deep", "uid": 0, "gid": 0})
        name, comp = r.choice([("arch%s.dat" % n, ".gz"), ("arch%s.tar" % n, ".bz2"), ("arch%s.tar.gz" % n, ".tar"),
                               ("arch%s.bin" % n, ".xz"), ("arch%s" % n, ".gz")])
        e = {"path": name, "type": "tar", "entries": entries, "compress": comp}
        self.ctx.append(e)
        self.ctx_paths[name] = "tar"
        srcs = [name]
        if r.random() < 0.2:
            text = "notar%s.tar" % n
            self.ctx.append({"path": text, "type": "f", "mode": "0644", "content": "not a tar\n"})
            self.ctx_paths[text] = "f"
            srcs.append(text)
        k = r.randint(0, 2)
        if k == 0 and len(srcs) == 1:
            dest = self.fresh(st)
        elif k == 1:
            dest = (self.pick(st, "d") or "/w") + "/"
        else:
            dest = self.fresh(st) + "/"
        # (no --chown: 20.10 keeps an archive's owners, F14, which masks by the names of
        # make_tar's entries)
        self.emit(copy_line("ADD", [], srcs, dest), repeatable=True)
        self.add_path(st, dest.rstrip("/"), "d")

    def i_fromstage5(self, st):
        """COPY --from by index, by a name in another case, of a directory and with a
        trailing slash."""
        r = self.r
        if not self.stages[:-1]:
            return self.i_copy(st)
        i = r.randrange(len(self.stages) - 1)
        src = self.stages[i]
        ref = r.choice([str(i), src.name.upper(), src.name])
        p = r.choice(["/etc/", "/etc/passwd", "/w", "/w/", "/tmp/", "/bin/busybox"])
        dest = self.fresh(st) + "/"
        if p.rstrip("/") not in src.paths and p not in ("/bin/busybox",):
            p = "/etc/"
        self.emit("COPY --from=%s %s %s" % (ref, p, dest), repeatable=True)
        self.add_path(st, dest.rstrip("/"), "d")

    # ---- v6 -------------------------------------------------------------------------------------
    def i_wdroot6(self, st):
        """WORKDIR spelled as the root in many ways (`//`, `/./`, `/..`, `.` at the root, a
        variable), other directories spelled with them, and a RUN that writes pwd: which ones
        make a layer, and the config's WorkingDir."""
        import posixpath
        r = self.r
        forms = ["/", "//", "/./", "//.", "/..", "/../", "/.", "///", "/../..", "/./.", "//..//",
                 ".", "./", "..", "$RV6", "${RV6}/.", "${RV6}${RV6}"]
        for _ in range(r.randint(1, 3)):
            k = r.random()
            if k < 0.6:
                f = r.choice(forms)
                if "RV6" in f and "RV6" not in st.env:
                    self.emit("ENV RV6=/")
                    st.env["RV6"] = "/"
                if f in (".", "./", ".."):
                    wd = posixpath.normpath(posixpath.join(st.workdir, f))
                else:
                    wd = "/"
            elif k < 0.8:
                n = self.uniq("wr")
                root = r.choice(ROOTS)
                f = r.choice(["//%s/%s" % (root.strip("/"), n), "/.%s/%s" % (root, n), "/..%s/%s/" % (root, n),
                              "%s/%s/.." % (root, n)])
                wd = posixpath.normpath(f.replace("//", "/"))
                if wd.startswith("//"):
                    wd = wd[1:]
            else:
                n = self.uniq("wr")
                f, wd = "/" + n + "/..", "/"
            if any(wd == p or wd.startswith(p + "/") for p, t in st.paths.items() if t != "d"):
                return
            self.emit("WORKDIR " + f)
            st.workdir = wd
            if wd != "/":
                self.add_path(st, wd, "d")
        p = "/tmp/" + self.uniq("pwd")
        st.paths[p] = "f"
        self.emit("RUN pwd > " + p)

    def tar_entries6(self, top, fmt):
        """The entries of a v6 archive under TOP: a few features each."""
        r = self.r
        E = [{"path": top, "type": "d", "mode": r.choice(["0755", "0750", "0700", "2755"]), "uid": 0, "gid": 0}]

        def f(path, **kw):
            d = {"path": path, "type": "f", "mode": "0644", "content": self.word(), "uid": 0, "gid": 0}
            d.update(kw)
            E.append(d)
            return d
        feats = ["long", "chain", "through", "hardsym", "dup", "dupdir", "file2dir", "dir2file", "abs", "dotdot",
                 "mtime", "uname", "bigid", "implicit", "hardlong"]
        if fmt != "ustar":
            feats += ["longlink", "sparse", "sparse", "longname1"]
        for ft in r.sample(feats, r.randint(1, 4)):
            n = self.uniq("")
            if ft == "long":
                comps = ["%s%s" % (c * r.randint(20, 45), n) for c in "lmn"[:r.randint(2, 3)]]
                f(top + "/" + "/".join(comps) + "/long_file_name_%s.txt" % n)
            elif ft == "longname1":
                f(top + "/" + ("x" * r.randint(101, 240)) + n)
            elif ft == "longlink":
                E.append({"path": top + "/ll" + n, "type": "l",
                          "target": r.choice(["../" * r.randint(30, 60) + "etc/passwd", "a/" * r.randint(51, 90) + "end"])})
            elif ft == "hardlong":
                t = f(top + "/" + ("h" * 60) + "/" + ("k" * 50) + n)
                if fmt != "ustar" or len(t["path"]) <= 100:
                    E.append({"path": top + "/hl" + n, "type": "h", "target": t["path"], "mode": t["mode"], "uid": 0, "gid": 0})
            elif ft == "chain":
                f(top + "/c3_" + n)
                E.append({"path": top + "/c2_" + n, "type": "l", "target": "c3_" + n})
                E.append({"path": top + "/c1_" + n, "type": "l", "target": "c2_" + n})
                E.append({"path": top + "/cabs_" + n, "type": "l", "target": "/" + top + "/c1_" + n})
            elif ft == "through":
                # a directory entry reached through a symlink of the archive
                E.append({"path": top + "/sdir" + n, "type": "d", "mode": "0755", "uid": 0, "gid": 0})
                E.append({"path": top + "/sl" + n, "type": "l", "target": "sdir" + n})
                f(top + "/sl%s/via" % n)
            elif ft == "hardsym":
                E.append({"path": top + "/hs" + n, "type": "l", "target": r.choice(["nowhere", "../x", "/etc"])})
                E.append({"path": top + "/hh" + n, "type": "h", "target": top + "/hs" + n, "mode": "0777", "uid": 0, "gid": 0})
            elif ft == "dup":
                p = top + "/dup" + n
                f(p, mode="0600", content="first")
                f(p, mode=r.choice(["0755", "0644"]), content="second", uid=r.choice([0, 1000]))
            elif ft == "dupdir":
                p = top + "/dd" + n
                E.append({"path": p, "type": "d", "mode": "0700", "uid": 0, "gid": 0})
                f(p + "/in")
                E.append({"path": p, "type": "d", "mode": r.choice(["0755", "0750", "1777"]), "uid": r.choice([0, 1000]), "gid": 0})
            elif ft == "file2dir":
                p = top + "/fd" + n
                f(p)
                E.append({"path": p, "type": "d", "mode": "0755", "uid": 0, "gid": 0})
                f(p + "/in")
            elif ft == "dir2file":
                p = top + "/df" + n
                E.append({"path": p, "type": "d", "mode": "0755", "uid": 0, "gid": 0})
                f(p + "/in")
                f(p, content="now a file")
            elif ft == "abs":
                f("/" + top + "/abs" + n)
            elif ft == "dotdot":
                f(top + "/x%s/../dots%s" % (n, n))
            elif ft == "mtime":
                f(top + "/tm" + n, mtime=r.choice([1234567890.75, -86400, 4102444800, 0, 1.5, 2000000000]))
            elif ft == "uname":
                # names in the header that are not the ids' (the ids win)
                f(top + "/un" + n, uid=r.choice([0, 1000, 4242]), gid=r.choice([0, 50]),
                  uname=r.choice(["root", "nobody", "app", "nosuch"]), gname=r.choice(["root", "staff", "nogroup", "nosuch"]))
            elif ft == "bigid":
                f(top + "/big" + n, uid=r.choice([2097152, 16777216, 65536, 4000000000]), gid=r.choice([2097152, 70000]))
            elif ft == "implicit":
                # deep entries whose directories the archive does not list
                f("%s/imp%s/a/b/c" % (top, n))
                if r.random() < 0.5:
                    E.append({"path": "%s/imp%s/a" % (top, n), "type": "d", "mode": "0700", "uid": 0, "gid": 0})
            elif ft == "sparse":
                # (a map past the real size is refused by Go's tar reader: a generator bug)
                m, size = r.choice([([[0, "head"], [1048576, "tail"]], r.choice([1048580, 2097152])),
                                    ([[8192, "mid"]], r.choice([8195, 70000])),
                                    ([[0, "a"], [4096, "b"], [65536, "c"]], r.choice([65537, 70000]))])
                E.append({"path": top + "/sp" + n, "type": "sparse", "mode": "0644", "uid": 0, "gid": 0, "map": m,
                          "realsize": size})
        return E

    def i_archive6(self, st):
        """ADD of an archive (ustar, GNU or PAX) with long names and link targets, sparse files,
        duplicate entries, symlink chains, entries through symlinks; sometimes over a symlink
        or a file of the image where the archive has its top directory."""
        r = self.r
        n = self.uniq("")
        top = "v" + n
        fmt = r.choice(["pax", "gnu", "ustar", "pax", "gnu"])
        entries = self.tar_entries6(top, fmt)
        if fmt == "gnu" and any(e["type"] == "sparse" for e in entries) and r.random() < 0.85:
            # the old GNU sparse header (type S), which 20.10 refuses (F59), now and then;
            # PAX 1.0 sparse entries else
            fmt = "pax"
        if any(e.get("uid", 0) > 2097151 or e.get("gid", 0) > 2097151 or isinstance(e.get("mtime"), float)
               or (e.get("mtime") or 0) < 0 for e in entries) and fmt == "ustar":
            fmt = "pax"
        name = "ar6_%s%s" % (n, r.choice([".tar", ".tar", ".tar.gz", ".tar.xz"]))
        dest = self.fresh(st)
        pre = r.random()
        if pre < 0.3:
            # the image has the archive's top directory's name as a symlink or a file
            self.emit("RUN mkdir -p %s && %s" % (dest, r.choice(["ln -s /tmp %s/%s" % (dest, top), "ln -s nowhere %s/%s" % (dest, top),
                                                                  "echo f > %s/%s" % (dest, top),
                                                                  "mkdir -m 700 %s/%s && echo old > %s/%s/old" % (dest, top, dest, top)])))
        elif pre < 0.45:
            # ... as a symlink, and the archive does not list its top directory: its entries
            # go through the image's symlink (to a sibling, up and over, to the root)
            entries = [e for e in entries if e["path"] != top]
            self.emit("RUN mkdir -p %s/real%s && %s" % (dest, n, r.choice(["ln -s real%s %s/%s" % (n, dest, top),
                                                                          "ln -s ../%s/real%s %s/%s" % (dest.rsplit("/", 1)[1], n, dest, top),
                                                                          "ln -s %s/real%s %s/%s" % (dest, n, dest, top),
                                                                          "ln -s / %s/%s" % (dest, top)])))
        self.ctx.append({"path": name, "type": "tar", "entries": entries, "format": fmt})
        self.ctx_paths[name] = "tar"
        self.emit(copy_line("ADD", [], [name], dest + "/"), repeatable=pre >= 0.45)
        self.add_path(st, dest, "d")
        self.add_path(st, dest + "/" + top, "d")

    # ---- v7 -------------------------------------------------------------------------------------
    def i_replace7(self, st):
        """ADD of an archive whose entries replace what the image has at a name (FINDINGS F66):
        a directory of the layers below by a file, a symlink or a hard link and then a
        directory again, or a file or symlink of the image by a directory; a RUN lists it."""
        r = self.r
        n = self.uniq("")
        dest = self.fresh(st)
        name = "rp" + n
        lower = r.choice(["dir", "dir", "file", "link"])
        self.emit("RUN " + {
            "dir": "mkdir -p %s/%s/sub && echo a > %s/%s/a && echo s > %s/%s/sub/s && chmod %s %s/%s"
                   % (dest, name, dest, name, dest, name, r.choice(["700", "2755", "755"]), dest, name),
            "file": "mkdir -p %s && echo f > %s/%s" % (dest, dest, name),
            "link": "mkdir -p %s/t%s && echo t > %s/t%s/t && ln -s t%s %s/%s" % (dest, n, dest, n, n, dest, name)}[lower])
        entries = []
        first = r.choice(["f", "l", "h", "none"])
        if first == "f":
            entries.append({"path": name, "type": "f", "content": "file" + n})
        elif first == "l":
            entries.append({"path": name, "type": "l", "target": "elsewhere"})
        elif first == "h":
            entries += [{"path": "h" + n, "type": "f", "content": "h"}, {"path": name, "type": "h", "target": "h" + n}]
        entries.append({"path": name, "type": "d", "mode": r.choice(["0755", "0700", "0750"]),
                        "uid": r.choice([0, 0, 1000]), "gid": r.choice([0, 50])})
        entries.append({"path": name + "/b", "type": "f", "content": "b" + n})
        if r.random() < 0.5:
            entries.append({"path": name + "/sub/new", "type": "f", "content": "n"})
        tar = "ar7_%s%s" % (n, r.choice([".tar", ".tar", ".tar.gz"]))
        self.ctx.append({"path": tar, "type": "tar", "entries": entries, "format": r.choice(["pax", "gnu"])})
        self.ctx_paths[tar] = "tar"
        self.emit(copy_line("ADD", [], [tar], dest + "/"))
        self.add_path(st, dest + "/" + name, "d")
        # (the listing outside what it lists: find would race the shell's redirection)
        out = "/tmp/ls7_" + n
        self.add_path(st, out, "f")
        self.emit("RUN find %s -exec stat -c '%%n %%a %%u:%%g %%F' {} + | sort > %s" % (dest + "/" + name, out))

    def i_wdexist7(self, st):
        """WORKDIR of directories that exist (FINDINGS F68: an empty layer): the base's, one an
        earlier step made, the same twice, one below, one through `..`."""
        r = self.r
        dirs = sorted(p for p, t in st.paths.items() if t == "d")
        d = r.choice(["/etc", "/tmp", "/bin", "/root"] + dirs[:20])
        form = r.choice(["same", "twice", "below", "dotdot", "slash"])
        if form == "same":
            self.emit("WORKDIR " + d)
        elif form == "twice":
            self.emit("WORKDIR " + d)
            self.emit("WORKDIR " + d + "/")
        elif form == "below":
            p = "%s/w7%s" % (d, self.uniq(""))
            self.emit("WORKDIR " + p)
            self.emit("WORKDIR " + d)
            self.add_path(st, p, "d")
        elif form == "dotdot":
            self.emit("WORKDIR %s/../%s" % (d, d.rsplit("/", 1)[1]))
        else:
            self.emit("WORKDIR %s//." % d)

    def i_noop7(self, st):
        """Metadata changes that change nothing (overlayfs copies the entry up: FINDINGS F70):
        chmod, chown and touch of the base's entries and of the stage's own, to what they are."""
        r = self.r
        dirs = sorted(p for p, t in st.paths.items() if t == "d")
        d = r.choice(dirs) if dirs else "/w"
        self.emit("RUN mkdir -p %s && %s" % (d, r.choice([
            "chmod 0755 /bin", "chown root:root /etc", "chmod 0644 /etc/passwd",
            "chmod \"$(stat -c %%a %s)\" %s" % (d, d),
            "chown \"$(stat -c %%u:%%g %s)\" %s" % (d, d),
            "touch -d \"@$(stat -c %Y /etc/group)\" /etc/group"])))

    def i_rmdir7(self, st):
        """Whiteouts and opaque markers in directories with owners and modes of their own
        (FINDINGS F67): a directory made in one step, then emptied, removed and made again,
        or one entry removed, in the next."""
        r = self.r
        n = self.uniq("")
        d = self.fresh(st)
        own = r.choice(["1000:50", "7:8", "0:0", "65534:65534"])
        mode = r.choice(["2750", "700", "1777", "755"])
        self.emit("RUN mkdir -p %s/x%s/deep && echo a > %s/a%s && echo x > %s/x%s/f && chown %s %s && chmod %s %s"
                  % (d, n, d, n, d, n, own, d, mode, d))
        form = r.choice(["remake", "rmone", "rmdir", "tofile"])
        if form == "remake":
            own2 = r.choice(["1000:50", "7:8", "0:0"])
            self.emit("RUN rm -rf %s && mkdir -m %s %s && chown %s %s && echo b > %s/b%s"
                      % (d, r.choice(["710", "2770", "755"]), d, own2, d, d, n))
        elif form == "rmone":
            self.emit("RUN rm %s/a%s" % (d, n))
        elif form == "rmdir":
            self.emit("RUN rm -rf %s/x%s" % (d, n))
        else:
            self.emit("RUN rm -rf %s/x%s && echo f > %s/x%s" % (d, n, d, n))
        self.add_path(st, d, "d")

    def i_fromlink6(self, st):
        """COPY --from of a stage's symlinks to directories (relative, absolute, chains, with a
        trailing slash, `/.`, a glob under them) and of paths through them."""
        r = self.r
        srcs = [s for s in self.stages[:-1] if getattr(s, "linkdir", None)]
        if not srcs:
            # make one here, for the stages after this one (and copy it within the stage)
            d = "/w/lk" + self.uniq("")
            self.emit("RUN mkdir -p %s/real/sub && echo a > %s/real/f1 && echo b > %s/real/sub/f2 && chmod 750 %s/real && "
                      "ln -s real %s/rel && ln -s %s/real %s/abs && ln -s rel %s/chain && ln -s nowhere %s/dang && "
                      "ln -s ../real/sub %s/real/up" % ((d,) * 4 + (d, d, d, d, d, d)))
            for x in ("real", "real/sub"):
                self.add_path(st, d + "/" + x, "d")
            for x in ("rel", "abs", "chain", "dang", "real/up"):
                self.add_path(st, d + "/" + x, "l")
            st.linkdir = d
            if not self.stages[:-1]:
                return
            srcs = [s for s in self.stages[:-1] if getattr(s, "linkdir", None)]
            if not srcs:
                return
        src = r.choice(srcs)
        d = src.linkdir
        p = d + "/" + r.choice(["rel", "rel/", "abs", "abs/", "chain", "chain/.", "rel/f1", "abs/sub", "real/up",
                                "real/up/", "rel/sub/../f1", "rel/*", "chain/s*", "real"])
        dest = self.fresh(st) + r.choice(["/", "/", ""])
        ref = r.choice([src.name, str(self.stages.index(src))])
        self.emit(copy_line("COPY", self.flags(st, chmod=False) + ["--from=" + ref], [p], dest), repeatable=True)
        self.add_path(st, dest.rstrip("/"), "d")

    def i_chown6(self, st):
        """Users and groups with ids beyond 65535, a group only /etc/group names (no user of
        that name), then --chown, USER and WORKDIR with them."""
        r = self.r
        n = self.uniq("")
        uid = r.choice([65536, 70000, 100000, 1000000, 16777216])
        gid = r.choice([65537, 70001, 200000, 2000000])
        g = "grp" + n
        u = "usr" + n
        if r.random() < 0.6:
            self.emit("RUN echo '%s:x:%d:' >> /etc/group && echo '%s:x:%d:%d::/home/%s:/bin/sh' >> /etc/passwd"
                      % (g, gid, u, uid, r.choice([gid, 50]), u))
        else:
            # the group only: no user has the name
            self.emit("RUN echo '%s:x:%d:' >> /etc/group" % (g, gid))
            u = None
        st.paths["/etc/group"] = "f"
        files = sorted(p for p, t in self.ctx_paths.items() if t == "f" and p not in self.odd)
        owners = [":%s" % g, "0:%s" % g, "%d:%s" % (uid, g), "%d" % uid, "%d:%d" % (uid, gid), g, "1000:" + g]
        if u:
            owners += [u, u + ":" + g, u + ":0", u + ":staff"]
        k = r.random()
        if k < 0.5 and files:
            dest = self.fresh(st) + "/sub%s/" % n
            self.emit(copy_line("COPY", ["--chown=" + r.choice(owners)], [r.choice(files)], dest), repeatable=True)
            self.add_path(st, dest.rstrip("/"), "d")
        elif k < 0.8:
            us = r.choice([o for o in owners if not o.startswith(":")] + ["%d:%d" % (uid, gid)])
            self.emit("USER " + us)
            wd = self.fresh(st) + "/deep%s/er" % n
            self.emit("WORKDIR " + wd)
            st.workdir = wd
            self.add_path(st, wd, "d")
            p = "/tmp/" + self.uniq("u")
            # (not id's groups: 20.10 lacks the primary group there, F39)
            self.emit("RUN (id -u; id -g; stat -c '%%n %%a %%u:%%g' . ..) > %s" % p)
            st.paths[p] = "f"
            self.emit("USER root")
        else:
            dest = self.fresh(st)
            self.emit("COPY --chown=%s --from=busybox /etc/passwd %s/p%s" % (r.choice(owners), dest, n), repeatable=True)
            self.add_path(st, dest + "/p" + n, "f")

    def i_dest6(self, st):
        """COPY destinations spelled with `.`, `..`, `//` and `/./`, into deep directories
        that do not exist (their mode and owner, and their times in the image), with --chown; a
        file to `DIR/.`."""
        r = self.r
        files = sorted(p for p, t in self.ctx_paths.items() if t == "f" and p not in self.odd)
        dirs = sorted(p for p, t in self.ctx_paths.items() if t == "d" and p not in self.odd and
                      not any(q.startswith(p + "/") and u == "dl" for q, u in self.ctx_paths.items()))
        if not files:
            return self.i_copy(st)
        n = self.uniq("")
        root = r.choice(ROOTS)
        base = "%s/dp%s" % (root, n)
        src = r.choice(files + dirs)
        isdir = src in dirs
        k = r.randint(0, 7)
        if k == 0:
            dest, made = base + "/a/b/c/", base + "/a/b/c"
        elif k == 1:
            dest, made = base + "//a//b/", base + "/a/b"
        elif k == 2:
            dest, made = base + "/./a/./", base + "/a"
        elif k == 3:
            dest, made = base + "/x/../a/", base + "/a"
        elif k == 4:
            # an existing directory spelled DIR/. (a file goes into it)
            d = self.pick(st, "d") or "/w"
            dest, made = d + "/.", d
            if d == "/w" and "/w" not in st.paths:
                self.emit("RUN mkdir -p /w")
                self.add_path(st, "/w", "d")
        elif k == 5:
            # a new path spelled NEW/. (no trailing slash once cleaned)
            dest, made = base + "/.", base
        elif k == 6 and st.workdir != "/":
            dest, made = r.choice(["..", "../", "./", "../sib%s/" % n]), None
        else:
            dest, made = base + "/deep/er/than/before/", base + "/deep/er/than/before"
        if any(made and (made == p or made.startswith(p + "/")) for p, t in st.paths.items() if t != "d"):
            return
        # (no --chmod: the listing below would differ by 20.10's special bits, F19)
        fl = self.flags(st, chmod=False)
        if r.random() < 0.4 and not any(x.startswith("--chown") for x in fl):
            fl.append("--chown=" + r.choice(["1000:50", "app", "nobody:nogroup", "70000:70000"]))
        self.emit(copy_line("COPY", fl, [src], dest), repeatable=True)
        if made:
            self.add_path(st, made, "d" if (isdir or dest.endswith("/") or k == 4) else "f")
        p = "/tmp/" + self.uniq("ls")
        # (the modes and owners of what the copy made, not the times: ls would show the
        # minute, which two builds need not share)
        self.emit("RUN find %s -exec stat -c '%%n %%a %%u:%%g %%F' {} + | sort > %s" % (made or ".", p))
        st.paths[p] = "f"

    def i_shell6(self, st):
        """SHELL forms not yet written: a relative shell, options after -c, spacing in the
        JSON, a shell that is an ENV-expanding wrapper; then shell-form RUN, CMD, ENTRYPOINT."""
        r = self.r
        sh = r.choice(['["sh", "-c"]', '[ "/bin/sh" ,"-c" ]', '["/bin/sh", "-e", "-u", "-c"]', '["/bin/sh","-xc"]',
                       '["/bin/sh", "-c", "--"]', '["/bin/busybox", "ash", "-c"]'])
        self.emit("SHELL " + sh)
        p, mk = self.out_file(st)
        self.emit("RUN %secho \"$0 $- $#\" > %s" % (mk, p))
        if r.random() < 0.6:
            self.emit(r.choice(["CMD echo sh6 $0", "ENTRYPOINT exec echo ep6", "HEALTHCHECK CMD echo hc6",
                                "ONBUILD RUN echo ob6"]))
        if r.random() < 0.5:
            self.emit('SHELL ["/bin/sh", "-c"]')


def copy_line(cmd, flags, srcs, dest):
    """COPY/ADD FLAGS SRCS DEST, in JSON form when a word holds a blank."""
    words = list(srcs) + [dest]
    fl = "".join(x + " " for x in flags)
    if any(" " in w or "\t" in w for w in words):
        return "%s %s%s" % (cmd, fl, json.dumps(words, ensure_ascii=False))
    return "%s %s%s" % (cmd, fl, " ".join(words))


def strip_glob(v, pat, prefix, longest):
    """${v#pat} (prefix) or ${v%pat}, shortest or longest match, for patterns of `*`, `?`
    and literals (fnmatch's)."""
    import fnmatch
    cuts = range(len(v) + 1)
    if prefix:
        cands = [i for i in cuts if fnmatch.fnmatchcase(v[:i], pat)]
        if not cands:
            return v
        return v[(max(cands) if longest else min(cands)):]
    cands = [i for i in cuts if fnmatch.fnmatchcase(v[i:], pat)]
    if not cands:
        return v
    return v[:(min(cands) if longest else max(cands))]


def sym_mode(mode, spec):
    """chmod(1)'s symbolic modes on a regular file's MODE."""
    for clause in spec.split(","):
        i = 0
        who = ""
        while i < len(clause) and clause[i] in "ugoa":
            who += clause[i]
            i += 1
        op, perms = clause[i], clause[i + 1:]
        masks = {"u": 0o4700, "g": 0o2070, "o": 0o0007}
        targets = "ugo" if who in ("", "a") or "a" in who else who
        bits = 0
        for t in targets:
            for c in perms:
                if c == "r":
                    bits |= {"u": 0o400, "g": 0o040, "o": 0o004}[t]
                elif c == "w":
                    bits |= {"u": 0o200, "g": 0o020, "o": 0o002}[t]
                elif c == "x" or (c == "X" and mode & 0o111):
                    bits |= {"u": 0o100, "g": 0o010, "o": 0o001}[t]
                elif c == "s" and t in "ug":
                    bits |= {"u": 0o4000, "g": 0o2000}[t]
        if who == "" and op != "=":
            bits &= ~0o022  # the umask a bare +x or -x respects (chmod(1))
        if op == "+":
            mode |= bits
        elif op == "-":
            mode &= ~bits
        else:
            clear = 0
            for t in targets:
                clear |= masks[t] & (0o0777 | (0o4000 if t == "u" else 0o2000 if t == "g" else 0))
            mode = (mode & ~clear) | bits
    return mode


def generate(seed):
    return Gen(seed).gen()


if __name__ == "__main__":
    case = generate(int(sys.argv[1]))
    text = json.dumps(case, indent=1, sort_keys=True)
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write(text + "\n")
    else:
        print(text)
