#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The table of tests/integration/explain_docker.sh: build each image with bale, load them all
into docker, then for every row compare `bale explain` with `docker run` and `bale run`."""
import json
import os
import shlex
import shutil
import subprocess
import sys

BALE = os.environ["BALE"]
DOCKER = os.environ.get("DOCKER_CLI", "/usr/bin/docker")
TMP = sys.argv[1]

FILES = {
    "tool": "#!/bin/sh\necho tool ran \"$@\"\n",
    "badinterp.sh": "#!/nonexistent/sh\necho never\n",
    "crlf.sh": "#!/bin/sh\r\necho crlf\r\n",
    "noshebang.sh": "echo no shebang\n",
    "entry.sh": "#!/bin/sh\necho entry setup\nexec \"$@\"\n",
    "noargs.sh": "#!/bin/sh\necho ignores its arguments\n",
    "l0.sh": "#!/l1.sh\n", "l1.sh": "#!/l2.sh\n", "l2.sh": "#!/l3.sh\n", "l3.sh": "#!/l4.sh\n",
    "l4.sh": "#!/l5.sh\n", "l5.sh": "#!/bin/sh\necho deep\n",
}
CHAIN = "COPY --chmod=755 l0.sh l1.sh l2.sh l3.sh l4.sh l5.sh /"

# name | Dockerfile lines (;; between them) | run options | run arguments | docker's status
TABLE = r"""
seed-cmd        | FROM busybox;;CMD ["echo", "Hello, World!"]                          |                  | Welcome       | 127
seed-cmd-plain  | FROM busybox;;CMD ["echo", "Hello, World!"]                          |                  |               | 0
seed-ep         | FROM busybox;;ENTRYPOINT ["echo", "Hello, World!"]                   |                  | Welcome       | 0
cmd-replaced    | FROM busybox;;CMD ["echo", "default"]                                |                  | echo replaced | 0
shell-cmd       | FROM busybox;;CMD echo shell form                                    |                  |               | 0
shell-ep        | FROM busybox;;ENTRYPOINT echo shell ep;;CMD ["ignored"]              |                  | a b           | 0
ep-cmd          | FROM busybox;;ENTRYPOINT ["/bin/echo"];;CMD ["default", "args"]      |                  |               | 0
ep-cmd-args     | FROM busybox;;ENTRYPOINT ["/bin/echo"];;CMD ["default"]              |                  | x y           | 0
missing-abs     | FROM busybox;;CMD ["/nonexistent"]                                   |                  |               | 127
missing-in-path | FROM busybox;;ENV PATH=/nowhere;;CMD ["echo", "x"]                   |                  |               | 127
empty-argv0     | FROM busybox;;CMD ["echo"]                                           |                  | ''            | 127
dangling        | FROM busybox;;RUN ln -s /nonexistent /d;;CMD ["/d"]                  |                  |               | 127
rel-workdir     | FROM busybox;;COPY --chmod=755 tool /app/tool;;WORKDIR /app;;CMD ["./tool"] |           |               | 0
rel-no-workdir  | FROM busybox;;COPY --chmod=755 tool /app/tool;;CMD ["./tool"]        |                  |               | 127
rel-w-option    | FROM busybox;;COPY --chmod=755 tool /app/tool;;CMD ["./tool"]        | -w /app          |               | 0
rel-path-entry  | FROM busybox;;COPY --chmod=755 tool /app/tool;;WORKDIR /app          | -e PATH=:/bin    | tool          | 125
not-executable  | FROM busybox;;COPY --chmod=644 tool /tool;;CMD ["/tool"]             |                  |               | 126
directory       | FROM busybox;;CMD ["/etc"]                                           |                  |               | 126
noexec-in-path  | FROM busybox;;COPY --chmod=644 tool /usr/local/bin/tool;;CMD ["tool"] |                 |               | 127
user-noexec     | FROM busybox;;COPY --chmod=744 tool /tool;;USER app;;CMD ["/tool"]   |                  |               | 126
user-nosearch   | FROM busybox;;COPY --chmod=755 tool /secret/tool;;RUN chmod 700 /secret;;USER app;;CMD ["/secret/tool"] | | | 126
group-exec      | FROM busybox;;COPY --chmod=750 tool /tool;;RUN chown 0:50 /tool;;USER app;;CMD ["/tool"] |   |               | 0
group-explicit  | FROM busybox;;COPY --chmod=750 tool /tool;;RUN chown 0:50 /tool;;USER app:app;;CMD ["/tool"] | |           | 126
bad-interp      | FROM busybox;;COPY --chmod=755 badinterp.sh /s.sh;;CMD ["/s.sh"]     |                  |               | 1
crlf            | FROM busybox;;COPY --chmod=755 crlf.sh /s.sh;;CMD ["/s.sh"]          |                  |               | 1
no-shebang      | FROM busybox;;COPY --chmod=755 noshebang.sh /s.sh;;CMD ["/s.sh"]     |                  |               | 1
interp-chain-ok | FROM busybox;;""" + CHAIN + r""";;CMD ["/l1.sh"]                    |                  |               | 0
interp-chain-long | FROM busybox;;""" + CHAIN + r""";;CMD ["/l0.sh"]                  |                  |               | 1
no-loader       | FROM busybox;;COPY --chmod=755 dyntrue /dyntrue;;CMD ["/dyntrue"]    |                  |               | 1
user-unknown    | FROM busybox;;USER nosuch;;CMD ["id"]                                |                  |               | 125
group-unknown   | FROM busybox;;USER app:nosuch;;CMD ["id"]                            |                  |               | 125
user-numeric    | FROM busybox;;USER 4242:4242;;CMD ["id", "-u"]                       |                  |               | 0
user-option     | FROM busybox;;CMD ["id"]                                             | -u ghost         |               | 125
workdir-created | FROM busybox;;CMD ["pwd"]                                            | -w /new/dir      |               | 0
workdir-file    | FROM busybox;;CMD ["pwd"]                                            | -w /etc/passwd   |               | 125
ep-flag         | FROM busybox;;CMD ["never"]                                          | --entrypoint /bin/echo | a b     | 0
ep-flag-alone   | FROM busybox;;CMD ["never"]                                          | --entrypoint /bin/echo |         | 0
ep-flag-empty   | FROM busybox;;ENTRYPOINT ["/bin/echo"];;CMD ["dropped"]              | --entrypoint ''  |               | 125
ep-flag-empty-args | FROM busybox;;ENTRYPOINT ["/bin/echo"];;CMD ["dropped"]           | --entrypoint ''  | echo given    | 0
ep-flag-missing | FROM busybox;;CMD ["echo"]                                           | --entrypoint Welcome | a         | 127
base-ep         | FROM busybox;;COPY --chmod=755 entry.sh /entry.sh;;ENTRYPOINT ["/entry.sh"];;CMD ["echo", "base"] | | | 0
inherited-ep    | FROM bale-t/base-ep;;CMD ["echo", "child"]                           |                  |               | 0
inherited-ep-args | FROM bale-t/base-ep;;CMD ["echo", "child"]                         |                  | nosuch        | 127
ignoring-ep     | FROM busybox;;COPY --chmod=755 noargs.sh /n.sh;;ENTRYPOINT ["/n.sh"];;CMD ["echo", "lost"] | | | 0
cmd-dropped     | FROM bale-t/seed-cmd;;ENTRYPOINT ["/bin/echo"]                       |                  |               | 0
scratch-shell   | FROM scratch;;COPY busybox /busybox;;CMD echo no shell               |                  |               | 127
scratch-no-cmd  | FROM scratch;;COPY busybox /busybox                                  |                  |               | 125
scratch-user    | FROM scratch;;COPY busybox /busybox;;USER root;;CMD ["/busybox", "true"] |              |               | 125
"""


def rows():
    for line in TABLE.strip().splitlines():
        name, df, opts, args, want = (f.strip() for f in line.split("|"))
        yield name, df.split(";;"), shlex.split(opts), shlex.split(args), int(want)


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def build(name, lines):
    ctx = os.path.join(TMP, "ctx-" + name)
    os.makedirs(ctx)
    for f, text in FILES.items():
        with open(os.path.join(ctx, f), "w") as fh:
            fh.write(text)
    shutil.copy("/usr/bin/true", os.path.join(ctx, "dyntrue"))
    if any("busybox /busybox" in l for l in lines):
        shutil.copy("/bin/busybox", os.path.join(ctx, "busybox"))
    with open(os.path.join(ctx, "Dockerfile"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    rc, out, err = run([BALE, "build", "-q", "-t", "bale-t/" + name, ctx])
    if rc != 0:
        raise SystemExit("Bail out! bale build of %s failed: %s" % (name, err))


def docker_run(n, name, opts, args):
    cname = "explain-%d" % n
    rc, out, err = run([DOCKER, "run", "--name", cname, "--network", "none"] + opts + ["bale-t/" + name] + args)
    irc, iout, _ = run([DOCKER, "inspect", "--format", "{{json .Path}} {{json .Args}}", cname])
    if irc != 0:
        # dockerd refused before creating the container (a bad --workdir, no command): the argv
        # it would have run is that of the same run without the options that do not change it.
        eps = [o for i, o in enumerate(opts) if o == "--entrypoint" or (i and opts[i - 1] == "--entrypoint")]
        run([DOCKER, "create", "--name", cname] + eps + ["bale-t/" + name] + args)
        irc, iout, _ = run([DOCKER, "inspect", "--format", "{{json .Path}} {{json .Args}}", cname])
    argv = []
    if irc == 0:
        path, rest = iout.strip().split(" ", 1)
        argv = [json.loads(path)] + (json.loads(rest) or [])
    run([DOCKER, "rm", "-f", cname])
    return rc, out + err, argv


def compare(n, name, opts, args, want):
    problems = []
    drc, dout, dargv = docker_run(n, name, opts, args)
    erc, eout, eerr = run([BALE, "explain", "--format", "json"] + opts + ["bale-t/" + name, "--"] + args)
    if erc != 0:
        return ["bale explain failed: " + eerr]
    e = json.loads(eout)
    brc, bout, berr = run([BALE, "run", "--network", "none"] + opts + ["bale-t/" + name] + args)
    if drc != want:
        problems.append("docker run exited %d, the table says %d" % (drc, want))
    if e["argv"] != dargv:
        problems.append("argv: explain %s, docker %s" % (e["argv"], dargv))
    if e["outcome"] == "fails":
        if e["exit_status"] != drc:
            problems.append("exit status: explain %s, docker %d" % (e["exit_status"], drc))
        if e["error"] not in dout:
            problems.append("docker's output lacks explain's error %r" % e["error"])
        if e["error"].startswith("exec") and e["error"] not in berr:
            problems.append("bale run's output lacks explain's error %r" % e["error"])
    elif e["outcome"] != "starts":
        problems.append("outcome %r" % e["outcome"])
    elif "Error response from daemon" in dout or dout.startswith("exec "):
        problems.append("explain says it starts; docker: %d %s" % (drc, dout))
    if brc != drc:
        problems.append("bale run exited %d, docker %d (%s)" % (brc, drc, berr.strip()))
    if problems:
        problems.append("docker said: " + dout.strip())
        problems.append("explain: " + json.dumps({k: e.get(k) for k in ("argv", "outcome", "error", "exit_status", "advice")}))
    return problems


def main():
    table = list(rows())
    names = []
    for name, lines, _, _, _ in table:
        if name not in names:
            build(name, lines)
            names.append(name)
    archive = os.path.join(TMP, "all.tar")
    rc, _, err = run([BALE, "save", "-o", archive] + ["bale-t/" + n for n in names])
    if rc != 0:
        raise SystemExit("Bail out! bale save failed: " + err)
    rc, _, err = run([DOCKER, "load", "-i", archive])
    if rc != 0:
        raise SystemExit("Bail out! docker load failed: " + err)
    failed = 0
    for n, (name, _, opts, args, want) in enumerate(table, 1):
        problems = compare(n, name, opts, args, want)
        label = "%s: docker run %s%s" % (name, " ".join(map(shlex.quote, opts + ["IMAGE"] + args)), " -> %d" % want)
        print("%s %d - %s" % ("not ok" if problems else "ok", n, label))
        for p in problems:
            print("# " + p)
        failed += bool(problems)
        sys.stdout.flush()
    print("1..%d" % len(table))
    sys.exit(1 if failed else 0)


main()
